"""Ordinary life as transfers: shopping, P2P among family and friends, salaries, rent, bills, cash, crypto,
and the legitimate look-alikes of drug money (tutors, group gifts, charities, salary pass-through)."""

from __future__ import annotations

import numpy as np

from narcotrace.sim.flows import ACT, CH, Flows, Vocab
from narcotrace.sim.population import (CITIES, HOUR_WEEKDAY, HOUR_WEEKEND, POS_CATEGORIES, UTILITIES, Population,
                                       open_account)

DAY = 86_400
_P2P_NOTES = ["долг", "за обед", "спасибо", "на такси", "вернула", "за билеты", "подарок", "на продукты",
              "маме", "за квартиру", "на бензин", "қарыз", "рахмет", "for dinner", "за кофе", "на телефон"]
_SELLER_NOTES = {"tutor": ["за урок", "занятие", "репетитор", "за 4 занятия", "English lesson", "сабақ"],
                 "small_seller": ["за маникюр", "торт", "за заказ", "предоплата", "доставка", "за ресницы"]}
_MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
           "ноябрь", "декабрь"]


# Kazakhstan keeps one time zone, UTC+5: people live by local hours, the data is in UTC.
LOCAL_UTC_OFFSET_H = 5
_WEEKDAY_UTC = np.roll(HOUR_WEEKDAY, -LOCAL_UTC_OFFSET_H)  # [h] = share of local hour h+5
_WEEKEND_UTC = np.roll(HOUR_WEEKEND, -LOCAL_UTC_OFFSET_H)


def _local(hour: int) -> int:
    """Seconds after UTC midnight of a local (UTC+5) hour of the same day."""
    return (hour - LOCAL_UTC_OFFSET_H) * 3600


def clock(rng: np.random.Generator, day_ts: np.ndarray | int, n: int, weekend: np.ndarray | bool) -> np.ndarray:
    """Seconds since the epoch: the given UTC day(s) plus a time drawn from the local hour-of-day curve."""
    wd = rng.choice(24, size=n, p=_WEEKDAY_UTC / _WEEKDAY_UTC.sum())
    we = rng.choice(24, size=n, p=_WEEKEND_UTC / _WEEKEND_UTC.sum())
    hour = np.where(weekend, we, wd)
    return np.asarray(day_ts, dtype=np.int64) + hour * 3600 + rng.integers(0, 3600, n)


def _round_human(rng: np.random.Generator, kzt: np.ndarray) -> np.ndarray:
    """People send round sums: 60 % to 1 000, 30 % to 100, the rest exact; in tiyn."""
    u = rng.random(len(kzt))
    r = np.where(u < 0.6, np.round(kzt, -3), np.where(u < 0.9, np.round(kzt, -2), np.round(kzt)))
    return (np.maximum(r, 100) * 100).astype(np.int64)


class OrdinaryLife:
    """Generates the everyday transfers of a population, one day at a time or for the whole window."""

    def __init__(self, pop: Population, vocab: Vocab, start_ts: int, days: int) -> None:
        self.pop = pop
        self.vocab = vocab
        self.start_ts = start_ts
        self.days = days
        b = pop.book
        self.n_acc = (pop.person_accounts >= 0).sum(axis=1)
        deg = np.diff(pop.contacts_ptr).astype(float)
        self.sociable = np.clip((deg / max(1.0, float(np.median(deg)))) ** 0.5, 0.3, 6.0)
        self.sociable /= self.sociable.mean()
        self.cats = list(POS_CATEGORIES)
        # Local merchants per city: one cumulative-weight ladder per city at [c, c+1), so one
        # searchsorted picks a merchant of the buyer's city (or a national one) by popularity.
        cat_w = np.array([POS_CATEGORIES[c][0] for c in self.cats], dtype=float)
        ladders, cands = [], []
        for c in range(len(CITIES)):
            m = np.nonzero((pop.merchant_city == c) | (pop.merchant_city == -1))[0]
            w = pop.merchant_weight[m] * cat_w[pop.merchant_cat[m]] / np.bincount(pop.merchant_cat, minlength=len(cat_w))[pop.merchant_cat[m]]
            cw = np.cumsum(w) / w.sum()
            cw[-1] = 1.0
            ladders.append(c + cw * 0.999999)
            cands.append(m)
        self.m_ladder = np.concatenate(ladders)
        self.m_cand = np.concatenate(cands)
        self.m_desc = vocab.codes([b.holder_name[a].upper().replace('"', "") for a in pop.merchants])
        order = np.argsort(pop.atm_city, kind="stable")
        self.atm_sorted = pop.atms[order]
        self.atm_off = np.searchsorted(pop.atm_city[order], np.arange(len(CITIES) + 1))
        sw = pop.seller_weight
        self.seller_cdf = np.cumsum(sw) / sw.sum()
        self.p2p_codes = vocab.codes(_P2P_NOTES)
        self.seller_kind = [b.lookalike[pop.person_primary[p]] or "small_seller" for p in pop.seller_people]
        self.seller_codes = {k: vocab.codes(v) for k, v in _SELLER_NOTES.items()}

    # ---- helpers ---------------------------------------------------------------------------------
    def _person_account(self, rng: np.random.Generator, who: np.ndarray, p_primary: float) -> np.ndarray:
        slot = np.floor(rng.random(len(who)) * self.n_acc[who]).astype(np.int64)
        slot[rng.random(len(who)) < p_primary] = 0
        return self.pop.person_accounts[who, slot]

    def _atm(self, rng: np.random.Generator, city: np.ndarray) -> np.ndarray:
        lo, hi = self.atm_off[city], self.atm_off[city + 1]
        return self.atm_sorted[lo + np.floor(rng.random(len(city)) * (hi - lo)).astype(np.int64)]

    def _notes(self, rng: np.random.Generator, codes: np.ndarray, n: int, p_empty: float) -> np.ndarray:
        d = codes[rng.integers(0, len(codes), n)]
        d[rng.random(n) < p_empty] = 0
        return d

    # ---- one day -------------------------------------------------------------------------------
    def day(self, rng: np.random.Generator, d: int) -> Flows:
        pop = self.pop
        P = pop.n_people
        day_ts = self.start_ts + d * DAY
        weekend = ((day_ts // DAY) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        act = pop.activity
        parts: list[Flows] = []

        # shopping at merchants (POS)
        k = rng.poisson(act * (1.3 if weekend else 1.15))
        who = np.repeat(np.arange(P), k)
        n = len(who)
        mi = self.m_cand[np.searchsorted(self.m_ladder, pop.person_city[who] + rng.random(n) * 0.999999)]
        cat = pop.merchant_cat[mi]
        med = np.array([POS_CATEGORIES[c][1] for c in self.cats])[cat]
        sig = np.array([POS_CATEGORIES[c][2] for c in self.cats])[cat]
        amt = np.maximum(np.round(med * np.exp(rng.normal(0, 1, n) * sig), -1), 100) * 100
        parts.append(Flows.make(self._person_account(rng, who, 0.8), pop.merchants[mi], clock(rng, day_ts, n, weekend),
                                amt, CH["merchant_pos"], ACT["pos_purchase"], desc=self.m_desc[mi]))

        # P2P among family and friends: sociable people (many contacts) send more often
        k = rng.poisson(act * 0.22 * self.sociable)
        who = np.repeat(np.arange(P), k)
        deg = pop.contacts_ptr[who + 1] - pop.contacts_ptr[who]
        who = who[deg > 0]
        deg = deg[deg > 0]
        n = len(who)
        to = pop.contacts[pop.contacts_ptr[who] + np.floor(rng.random(n) * deg).astype(np.int64)]
        phone = rng.random(n) < 0.55
        dst = np.where(phone, pop.person_primary[to], self._person_account(rng, to, 0.7))
        parts.append(Flows.make(pop.person_primary[who], dst, clock(rng, day_ts, n, weekend),
                                _round_human(rng, rng.lognormal(np.log(6_000), 1.0, n)),
                                np.where(phone, CH["phone_p2p"], CH["card_p2p"]), ACT["p2p"],
                                desc=self._notes(rng, self.p2p_codes, n, 0.7)))

        # tutors, nail masters, home bakers: many small card transfers from strangers
        k = rng.poisson(act * 0.03)
        who = np.repeat(np.arange(P), k)
        si = np.searchsorted(self.seller_cdf, rng.random(len(who)) * 0.999999)
        seller = pop.seller_people[si]
        keep = seller != who
        who, si, seller = who[keep], si[keep], seller[keep]
        n = len(who)
        tutor = np.array([self.seller_kind[i] == "tutor" for i in si], dtype=bool)
        kzt = np.where(tutor, rng.choice([5_000, 6_000, 7_000, 8_000, 10_000, 12_000, 15_000], n),
                       np.round(rng.lognormal(np.log(9_000), 0.6, n), -2))
        notes = np.where(tutor, self._notes(rng, self.seller_codes["tutor"], n, 0.6),
                         self._notes(rng, self.seller_codes["small_seller"], n, 0.6))
        phone = rng.random(n) < 0.4
        parts.append(Flows.make(self._person_account(rng, who, 0.85), pop.person_primary[seller],
                                clock(rng, day_ts, n, weekend), kzt * 100,
                                np.where(phone, CH["phone_p2p"], CH["card_p2p"]), ACT["seller_payment"], desc=notes))

        # moving money between one's own accounts
        multi = np.nonzero(self.n_acc >= 2)[0]
        who = multi[rng.random(len(multi)) < 0.02 * act[multi]]
        n = len(who)
        other = pop.person_accounts[who, 1 + (rng.random(n) * (self.n_acc[who] - 1)).astype(np.int64)]
        back = rng.random(n) < 0.4
        a, b = pop.person_primary[who], other
        parts.append(Flows.make(np.where(back, b, a), np.where(back, a, b), clock(rng, day_ts, n, weekend),
                                _round_human(rng, rng.lognormal(np.log(30_000), 1.0, n)),
                                np.where(rng.random(n) < 0.7, CH["card_p2p"], CH["iban_transfer"]),
                                ACT["own_transfer"]))

        # cash from ATMs
        k = rng.poisson(act * 0.035)
        who = np.repeat(np.arange(P), k)
        n = len(who)
        # mostly small sums, now and then the 100-300k people take out for a purchase paid in cash
        kzt = rng.choice([5_000, 10_000, 20_000, 30_000, 50_000, 100_000, 150_000, 200_000, 300_000], n,
                         p=[0.12, 0.22, 0.22, 0.14, 0.14, 0.09, 0.03, 0.03, 0.01])
        parts.append(Flows.make(self._person_account(rng, who, 0.8), self._atm(rng, pop.person_city[who]),
                                clock(rng, day_ts, n, weekend), kzt * 100, CH["atm_withdrawal"],
                                ACT["atm_withdrawal"]))

        # mobile top-ups and other small bills
        who = np.nonzero(rng.random(P) < 0.05)[0]
        n = len(who)
        mob = pop.utilities[[u[0] for u in UTILITIES].index("mobile")]
        parts.append(Flows.make(self._person_account(rng, who, 0.9), np.full(n, mob), clock(rng, day_ts, n, weekend),
                                rng.choice([1_000, 2_000, 3_000, 5_000], n) * 100, CH["bill_payment"],
                                ACT["utility"], desc=self.vocab.code("Пополнение баланса")))

        # occasional big purchases: cars, furniture, deposits on flats
        who = np.nonzero(rng.random(P) < 0.0012)[0]
        n = len(who)
        parts.append(Flows.make(self._person_account(rng, who, 0.6),
                                pop.bigticket[rng.integers(0, len(pop.bigticket), n)],
                                clock(rng, day_ts, n, weekend),
                                (np.round(rng.lognormal(np.log(900_000), 0.8, n), -3) * 100),
                                np.where(rng.random(n) < 0.5, CH["iban_transfer"], CH["merchant_pos"]),
                                ACT["big_purchase"]))

        # businesses: merchants and employers pay suppliers; merchants bank their cash takings
        if not weekend:
            payers = np.concatenate([pop.merchants, pop.employers])
            k = rng.poisson(np.where(np.arange(len(payers)) < len(pop.merchants), 0.2, 0.6))
            frm = np.repeat(payers, k)
            n = len(frm)
            parts.append(Flows.make(frm, pop.suppliers[rng.integers(0, len(pop.suppliers), n)],
                                    day_ts + rng.integers(_local(9), _local(18), n),
                                    np.round(rng.lognormal(np.log(450_000), 1.0, n), -2) * 100,
                                    CH["iban_transfer"], ACT["b2b"],
                                    desc=self.vocab.code("Оплата по счету на оплату")))
            # suppliers invoice employers back for services: keeps money circulating among firms
            k = rng.poisson(np.full(len(pop.suppliers), 1.5))
            frm = np.repeat(pop.suppliers, k)
            n = len(frm)
            parts.append(Flows.make(frm, pop.employers[rng.integers(0, len(pop.employers), n)],
                                    day_ts + rng.integers(_local(9), _local(18), n),
                                    np.round(rng.lognormal(np.log(900_000), 1.0, n), -2) * 100,
                                    CH["iban_transfer"], ACT["b2b"], desc=self.vocab.code("Оплата за услуги")))
        cash_m = pop.merchants[rng.random(len(pop.merchants)) < 0.15]
        n = len(cash_m)
        mcity = np.maximum(pop.merchant_city[np.searchsorted(pop.merchants, cash_m)], 0)
        parts.append(Flows.make(self._atm(rng, mcity), cash_m, day_ts + rng.integers(_local(10), _local(20), n),
                                np.round(rng.lognormal(np.log(120_000), 0.8, n), -3) * 100, CH["cash_deposit"],
                                ACT["cash_deposit"]))
        return Flows.concat(parts)

    # ---- scheduled and multi-step flows over the whole window ------------------------------------
    def scheduled(self, rng: np.random.Generator) -> Flows:
        """Salaries (with pass-through), rent, bills and remittances abroad: monthly, by calendar day."""
        import datetime as dt

        pop = self.pop
        P = pop.n_people
        parts: list[Flows] = []
        util_day = rng.integers(10, 26, P)
        n_util = rng.integers(2, 5, P)
        util_pick = np.argsort(rng.random((P, len(UTILITIES) - 1)), axis=1)  # which bills (mobile is daily)
        remit_day = rng.integers(1, 29, P)
        util_codes = self.vocab.codes([f"Оплата: {u[1]}" for u in UTILITIES])
        for d in range(self.days):
            day_ts = self.start_ts + d * DAY
            date = dt.datetime.fromtimestamp(day_ts, dt.UTC)
            dom = date.day
            # salary, paid in office hours; biweekly employers pay half twice; a payday on a weekend is
            # paid on the Friday before
            wd = date.weekday()
            doms = [] if wd >= 5 else [dom + k for k in ((0, 1, 2) if wd == 4 else (0,))]
            who = np.nonzero(np.isin(pop.pay_days[:, 0], doms) | np.isin(pop.pay_days[:, 1], doms))[0]
            n = len(who)
            if n:
                half = pop.pay_days[who, 1] >= 0
                kzt = np.round(pop.salary[who] * np.where(half, 0.5, 1.0) * rng.normal(1, 0.03, n), -1)
                ts = day_ts + rng.integers(_local(9), _local(14), n)
                parts.append(Flows.make(pop.employers[pop.employer[who]], pop.person_primary[who], ts, kzt * 100,
                                        CH["salary"], ACT["salary"],
                                        desc=self.vocab.code(f"Заработная плата за {_MONTHS[date.month - 1]} "
                                                             f"{date.year}")))
                # people who move their salary on at once: to their other bank or to family
                pt = pop.passthrough[who]
                pw, pts, pk = who[pt], ts[pt], kzt[pt]
                m = len(pw)
                if m:
                    own = self.n_acc[pw] >= 2
                    fam = pop.contacts[np.minimum(pop.contacts_ptr[pw], len(pop.contacts) - 1)]
                    dst = np.where(own, pop.person_accounts[pw, 1], pop.person_primary[fam])
                    ok = dst != pop.person_primary[pw]
                    parts.append(Flows.make(pop.person_primary[pw][ok], dst[ok],
                                            (pts + rng.integers(300, 5400, m))[ok],
                                            (np.floor(pk * rng.uniform(0.85, 1.0, m), ) * 100)[ok],
                                            np.where(own, CH["iban_transfer"], CH["card_p2p"])[ok],
                                            ACT["salary_passthrough"]))
            # rent to landlords
            who = np.nonzero((pop.landlord >= 0) & (pop.rent_day == dom))[0]
            n = len(who)
            if n:
                ch = rng.choice([CH["card_p2p"], CH["phone_p2p"], CH["iban_transfer"]], n)
                parts.append(Flows.make(pop.person_primary[who], pop.person_primary[pop.landlord[who]],
                                        clock(rng, day_ts, n, False), pop.rent[who] * 100, ch, ACT["rent"],
                                        desc=self.vocab.code("аренда квартиры")))
            # utilities (bill_payment)
            who = np.nonzero(util_day == dom)[0]
            if len(who):
                reps = n_util[who]
                payer = np.repeat(who, reps)
                j = np.concatenate([util_pick[p, :r] for p, r in zip(who, reps)])
                u = np.where(j >= 5, j + 1, j)  # skip the mobile operator (index 5)
                base = np.array([x[2] for x in UTILITIES])[u]
                n = len(payer)
                parts.append(Flows.make(self._person_account(rng, payer, 0.85), pop.utilities[u],
                                        clock(rng, day_ts, n, False),
                                        np.round(base * rng.lognormal(0, 0.35, n), 0) * 100, CH["bill_payment"],
                                        ACT["utility"], desc=util_codes[u]))
            # consumer loan instalments to the bank
            who = np.nonzero((pop.loan_to >= 0) & (pop.loan_day == dom))[0]
            n = len(who)
            if n:
                parts.append(Flows.make(pop.person_primary[who], pop.loan_to[who], clock(rng, day_ts, n, False),
                                        pop.loan_amt[who] * 100, CH["bill_payment"], ACT["loan_repayment"],
                                        desc=self.vocab.code("Погашение кредита")))
            # family remittances abroad
            who = np.nonzero((pop.remit_to >= 0) & (remit_day == dom))[0]
            n = len(who)
            if n:
                parts.append(Flows.make(pop.person_primary[who], pop.remit_to[who], clock(rng, day_ts, n, False),
                                        np.round(rng.lognormal(np.log(120_000), 0.5, n), -3) * 100, CH["swift"],
                                        ACT["remittance"], desc=self.vocab.code("family support")))
        return Flows.concat(parts)

    def new_accounts(self, rng: np.random.Generator) -> Flows:
        """Some people open a fresh card in the window, top it up from their main account and spend from
        it: a new account with money in and out, as a drop's fresh card has."""
        import datetime as dt

        pop = self.pop
        who = rng.choice(pop.n_people, size=max(3, int(pop.n_people * 0.012)), replace=False)
        parts = []
        for p in who:
            t_open = self.start_ts + int(rng.integers(0, max(1, self.days - 1) * DAY))
            acc = open_account(rng, pop, int(p), dt.datetime.fromtimestamp(t_open, dt.UTC))
            pop.book.lookalike[acc] = "new_account"
            t = t_open + int(rng.integers(3600, 2 * DAY))
            top = int(round(rng.lognormal(np.log(60_000), 0.8), -3))
            parts.append(Flows.make([pop.person_primary[p]], [acc], [t], [top * 100], CH["card_p2p"],
                                    ACT["own_transfer"]))
            k = int(rng.poisson(5))
            if k:
                ts = np.sort(t + rng.integers(600, max(1200, self.start_ts + self.days * DAY - t), k))
                mi = self.m_cand[np.searchsorted(self.m_ladder, pop.person_city[p] + rng.random(k) * 0.999999)]
                parts.append(Flows.make(np.full(k, acc), pop.merchants[mi], ts,
                                        np.round(top * rng.uniform(0.05, 0.25, k), -1) * 100, CH["merchant_pos"],
                                        ACT["pos_purchase"], desc=self.m_desc[mi]))
        return Flows.concat(parts)

    def group_collections(self, rng: np.random.Generator) -> Flows:
        """Friends chip in for a gift (many small transfers to one person), who then pays a shop."""
        pop = self.pop
        n_events = rng.poisson(max(3.0, pop.n_people * self.days / 4_000))
        deg = np.diff(pop.contacts_ptr)
        cand = np.nonzero(deg >= 6)[0]
        if not len(cand):
            return Flows.empty()
        parts = []
        notes = self.vocab.codes(["на подарок", "сбор на ДР", "на подарок учителю", "на свадьбу", "туған күнге"])
        gift_shops = pop.merchants[np.isin(pop.merchant_cat, [self.cats.index(c) for c in ("electronics", "online", "clothing")])]
        if not len(gift_shops):
            gift_shops = pop.merchants
        for org in rng.choice(cand, size=n_events):
            friends = pop.contacts[pop.contacts_ptr[org]:pop.contacts_ptr[org + 1]]
            friends = np.unique(friends[friends != org])
            k = min(len(friends), int(rng.integers(6, 26)))
            if k < 4:
                continue
            friends = rng.choice(friends, size=k, replace=False)
            t0 = self.start_ts + int(rng.integers(0, max(1, self.days - 3) * DAY))
            ts = t0 + np.sort(rng.integers(0, 2 * DAY, k))
            each = int(rng.choice([2_000, 3_000, 5_000, 10_000]))
            kzt = np.where(rng.random(k) < 0.8, each, each * rng.choice([0.5, 1.5, 2.0], k))
            phone = rng.random(k) < 0.6
            parts.append(Flows.make(pop.person_primary[friends], np.full(k, pop.person_primary[org]), ts,
                                    np.round(kzt) * 100, np.where(phone, CH["phone_p2p"], CH["card_p2p"]),
                                    ACT["group_collection"], desc=self._notes(rng, notes, k, 0.4)))
            total = kzt.sum() * rng.uniform(0.9, 1.0)
            parts.append(Flows.make([pop.person_primary[org]], [rng.choice(gift_shops)],
                                    [ts[-1] + int(rng.integers(3600, DAY))], [round(total) * 100],
                                    CH["merchant_pos"], ACT["group_gift"]))
        return Flows.concat(parts)

    def charities(self, rng: np.random.Generator) -> Flows:
        """Many small donations to a charity, forwarded in bulk every week: a legitimate fan-in."""
        pop = self.pop
        parts = []
        w = rng.pareto(1.0, len(pop.charities)) + 1
        notes = self.vocab.codes(["пожертвование", "на лечение", "садақа", "donation", "помощь детям"])
        for d in range(self.days):
            day_ts = self.start_ts + d * DAY
            n = rng.poisson(pop.n_people * 0.003)
            who = rng.integers(0, pop.n_people, n)
            ch = rng.choice(len(pop.charities), size=n, p=w / w.sum())
            parts.append(Flows.make(pop.person_primary[who], pop.charities[ch], clock(rng, day_ts, n, False),
                                    rng.choice([500, 1_000, 2_000, 5_000, 10_000, 20_000], n) * 100,
                                    rng.choice([CH["card_p2p"], CH["phone_p2p"], CH["iban_transfer"]], n),
                                    ACT["charity_donation"], desc=self._notes(rng, notes, n, 0.5)))
        donations = Flows.concat(parts)
        # weekly forward of most of the week's donations to clinics and suppliers
        for ci, acc in enumerate(pop.charities):
            mine = donations.dst == acc
            for wk_end in range(self.start_ts + 7 * DAY, self.start_ts + self.days * DAY, 7 * DAY):
                got = donations.amt[mine & (donations.ts < wk_end) & (donations.ts >= wk_end - 7 * DAY)].sum()
                if got <= 0:
                    continue
                to = rng.choice(np.concatenate([pop.bigticket, pop.suppliers]))
                parts.append(Flows.make([acc], [to], [wk_end + int(rng.integers(_local(10), _local(16)))],
                                        [int(got * rng.uniform(0.8, 0.95)) // 100 * 100], CH["iban_transfer"],
                                        ACT["charity_forward"], desc=self.vocab.code("благотворительная помощь")))
        return Flows.concat(parts)

    def crypto_trades(self, rng: np.random.Generator) -> Flows:
        """Legitimate customers buy and sell crypto at the exchangers (the same ones shops use)."""
        pop = self.pop
        import datetime as dt

        # wallets opened before the window (buyers may open one later, for a shop)
        t0 = dt.datetime.fromtimestamp(self.start_ts, dt.UTC).replace(tzinfo=None)
        holders = np.array([p for p in np.nonzero(pop.wallet >= 0)[0] if pop.book.opened_at[pop.wallet[p]] < t0],
                           dtype=np.int64)
        chains = np.array([pop.book.bank[w] for w in pop.wallet[holders]])
        ex_chain = np.array([pop.book.bank[w] for w in pop.exchanger_wallet])
        parts = []
        for chain in ("tron", "btc"):
            h = holders[chains == chain]
            ex = np.nonzero(ex_chain == chain)[0]
            if not len(h) or not len(ex):
                continue
            k = rng.poisson(1.5 * self.days / 30, len(h))
            who = np.repeat(h, k)
            n = len(who)
            share = pop.exchanger_share[ex] / pop.exchanger_share[ex].sum()
            e = ex[rng.choice(len(ex), size=n, p=share)]
            t = self.start_ts + rng.integers(0, self.days * DAY - 3600, n)
            kzt = np.round(rng.lognormal(np.log(60_000), 0.9, n), -3) * 100
            sell = rng.random(n) < 0.3
            lag = rng.integers(120, 2400, n)
            # buy: KZT by card to the exchanger, crypto from its hot wallet; sell: the reverse
            parts.append(Flows.make(np.where(sell, pop.wallet[who], pop.person_primary[who]),
                                    np.where(sell, pop.exchanger_wallet[e], pop.exchanger_bank[e]), t, kzt,
                                    np.where(sell, CH["crypto_transfer"], CH["card_p2p"]), ACT["crypto_buy"]))
            parts.append(Flows.make(np.where(sell, pop.exchanger_bank[e], pop.exchanger_wallet[e]),
                                    np.where(sell, pop.person_primary[who], pop.wallet[who]), t + lag,
                                    (kzt * 0.985).astype(np.int64),
                                    np.where(sell, CH["card_p2p"], CH["crypto_transfer"]), ACT["crypto_buy"]))
        return Flows.concat(parts)
