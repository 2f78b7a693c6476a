"""Drug money: buyers pay the drop named in an ad they saw; drops forward to collectors; collectors feed
crypto exchangers (USDT to the shop's wallets), cash out at ATMs and send some abroad."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from narcotrace import identifiers
from narcotrace.sim import ids
from narcotrace.sim.flows import ACT, CH, LEG, Flows, Vocab
from narcotrace.sim.model import Ad, DropSpell, Shop
from narcotrace.sim.population import CITIES, Population
from narcotrace.sim.shops import PRICES

HOUR = 3600
_BUYER_NOTES = ["за вещи", "долг", "за заказ", "подарок", "спасибо", "за товар", "+", "қарыз"]


def _ts(d: datetime) -> int:
    return int(d.timestamp())


@dataclass
class _Pay:
    ts: int
    amt: int  # tiyn


def _new_wallet(rng: np.random.Generator, pop: Population, person: int, opened_ts: int) -> int:
    addr = ids.wallet(rng, "tron")
    i = int(pop.book.add(1, account_id=[identifiers.crypto("tron", addr)], kind="wallet", bank="tron", country="",
                         holder_id=f"p{person:07d}", holder_name=pop.person_name[person], holder_kind="person",
                         address=[addr], currency="USDT",
                         opened_at=[datetime.fromtimestamp(opened_ts, UTC).replace(tzinfo=None)], savings=0.0)[0])
    pop.wallet[person] = i
    return i


def _price(rng: np.random.Generator, ad: Ad, shop: Shop) -> int:
    """What a buyer pays in KZT: an item from the ad's price list (or the shop's usual prices)."""
    if ad.prices and rng.random() < 0.85:
        keys = sorted(ad.prices)
        kzt = int(ad.prices[keys[int(rng.integers(0, len(keys)))]])
    else:
        drug = shop.drugs[int(rng.integers(0, len(shop.drugs)))] if shop.drugs else "mephedrone"
        items = PRICES.get(drug, PRICES["mephedrone"])
        _, lo, hi = items[int(rng.integers(0, len(items)))]
        kzt = int(round(rng.uniform(lo, hi), -3))
    if rng.random() < 0.1:  # two bookmarks at once
        kzt *= 2
    u = rng.random()
    if u < 0.12:  # the buyer adds the bank's transfer fee
        kzt = int(round(kzt * 1.0095))
    elif u < 0.2:
        kzt += int(rng.choice([100, 150, 200, 300]))
    return kzt


def drug_money(rng: np.random.Generator, pop: Population, shops: list[Shop], ads: list[Ad], start: datetime,
               days: int, vocab: Vocab, shop_foreign: dict[str, list[int]], wallet_index: dict[str, int],
               indicators: list[dict] | None = None) -> tuple[Flows, np.ndarray]:
    """All drug flows; and the people who bought (indexes).

    Buyers pay a drop named in the ad by card or phone; a buyer with a TRON wallet who sees an ad naming
    the shop's wallet may instead buy USDT at an exchanger and pay the wallet (`indicators` say which ads
    name which wallet)."""
    book = pop.book
    acc_index = {a: i for i, a in enumerate(book.account_id)}
    start_ts = _ts(start)
    end_ts = start_ts + days * 86_400
    shop_by_id = {s.shop_id: i for i, s in enumerate(shops)}
    spells_of: dict[tuple[int, str], list[DropSpell]] = defaultdict(list)
    for si, s in enumerate(shops):
        for sp in s.drops:
            spells_of[(si, sp.account_id)].append(sp)

    # ads a buyer in each city can see: the shop serves the city (ads name a city or the shop's cities)
    ads_by_city: dict[int, list[int]] = defaultdict(list)
    for ai, ad in enumerate(ads):
        if not ad.account_ids or ad.shop_id not in shop_by_id:
            continue
        cities = [ad.city] if ad.city in CITIES else shops[shop_by_id[ad.shop_id]].cities
        for c in cities:
            ads_by_city[CITIES.index(c)].append(ai)

    # buyers live where the shops sell: a few % of the people of the cities served
    served = np.nonzero(np.isin(pop.person_city, list(ads_by_city)))[0]
    n_buyers = min(len(served) // 5, max(len(shops) * 15, int(len(served) * 0.04)))
    # people who already hold crypto are likelier buyers (some shops take USDT)
    w = np.where(pop.wallet[served] >= 0, 3.0, 1.0)
    buyers = np.sort(rng.choice(served, size=n_buyers, replace=False, p=w / w.sum())) if n_buyers else served[:0]
    purchases = rng.geometric(0.35, len(buyers))
    notes = vocab.codes(_BUYER_NOTES)
    tron_shop_wallets = {w.account_id for sh in shops for w in sh.wallets if w.chain == "tron"}
    ad_wallets: dict[str, list[str]] = defaultdict(list)
    for ind in indicators or []:
        if ind.get("account_id") in tron_shop_wallets and ind["account_id"] not in ad_wallets[ind["post_id"]]:
            ad_wallets[ind["post_id"]].append(ind["account_id"])
    ex_tron = np.array([e for e in range(len(pop.exchanger_bank)) if book.bank[pop.exchanger_wallet[e]] == "tron"])
    ex_p = pop.exchanger_share[ex_tron] / pop.exchanger_share[ex_tron].sum()
    crypto_parts: list[Flows] = []
    src, dst, ts, amt, chan, desc, shop_col, post_col = [], [], [], [], [], [], [], []
    received: dict[tuple[int, int], list[_Pay]] = defaultdict(list)  # (shop, drop account) -> payments
    spell_of_pay: dict[tuple[int, int], DropSpell] = {}
    actual_buyers = set()
    for b, k in zip(buyers, purchases):
        city_ads = ads_by_city.get(int(pop.person_city[b]))
        if not city_ads:
            continue
        for _ in range(int(k)):
            ai = city_ads[int(rng.integers(0, len(city_ads)))]
            ad = ads[ai]
            si = shop_by_id[ad.shop_id]
            t = _ts(ad.date) + int(np.clip(rng.lognormal(np.log(5 * HOUR), 1.0), 600, 48 * HOUR))
            bw = int(pop.wallet[b])
            named_w = [w for w in ad_wallets.get(ad.post_id, []) if w in {x.account_id for x in shops[si].wallets}]
            if named_w and bw < 0 and t < end_ts and rng.random() < 0.25:
                bw = _new_wallet(rng, pop, int(b), t - 4 * HOUR)  # the shop asks for USDT: the buyer gets a wallet
            if named_w and bw >= 0 and book.bank[bw] == "tron" and rng.random() < 0.7:
                if t >= end_ts:
                    continue
                kzt = _price(rng, ad, shops[si])
                # buys USDT at an exchanger (an ordinary-looking crypto purchase), then pays the shop's wallet
                e = int(ex_tron[rng.choice(len(ex_tron), p=ex_p)])
                t_buy = max(_ts(ad.date) + 60, t - int(rng.uniform(0.3, 3) * HOUR))
                lag = int(rng.integers(120, 1800))
                t = max(t, t_buy + lag + 60)
                if t >= end_ts:
                    continue
                opened = book.opened_at[bw]
                if datetime.fromtimestamp(t_buy, UTC).replace(tzinfo=None) < opened:
                    # purchases are drawn out of time order: a wallet made for a later one opens earlier
                    book.opened_at[bw] = datetime.fromtimestamp(t_buy - 4 * HOUR, UTC).replace(tzinfo=None)
                topup = int(round(kzt * 1.03, -3)) * 100
                crypto_parts.append(Flows.make([pop.person_primary[b], pop.exchanger_wallet[e]],
                                               [pop.exchanger_bank[e], bw], [t_buy, t_buy + lag],
                                               [topup, int(topup * 0.985)], [CH["card_p2p"], CH["crypto_transfer"]],
                                               ACT["crypto_buy"]))
                crypto_parts.append(Flows.make([bw], [wallet_index[named_w[int(rng.integers(0, len(named_w)))]]],
                                               [t], [kzt * 100], CH["crypto_transfer"], ACT["drug"],
                                               leg=LEG["buyer_to_wallet"], shop=si, post=ai))
                actual_buyers.add(int(b))
                continue
            active = [(sp, aid) for aid in ad.account_ids for sp in spells_of.get((si, aid), [])
                      if _ts(sp.start) <= t < _ts(sp.end)]
            if not active:
                # the buyer hurries: pays before the named drop is retired, if it was active at the ad
                alive = [(sp, aid) for aid in ad.account_ids for sp in spells_of.get((si, aid), [])
                         if _ts(sp.start) <= _ts(ad.date) < _ts(sp.end)]
                if not alive:
                    continue
                sp, aid = alive[int(rng.integers(0, len(alive)))]
                lo, hi = _ts(ad.date) + 300, _ts(sp.end) - 60
                if hi <= lo:
                    continue
                t = int(rng.integers(lo, hi))
                active = [(sp, aid)]
            if t >= end_ts:
                continue
            sp, aid = active[int(rng.integers(0, len(active)))]
            drop = acc_index[aid]
            use_card = sp.card is not None and (sp.phone is None or rng.random() < 0.5)
            payer = int(pop.person_primary[b]) if rng.random() < 0.85 else int(
                pop.person_accounts[b][int(rng.integers(0, (pop.person_accounts[b] >= 0).sum()))])
            if payer == drop:
                continue
            kzt = _price(rng, ad, shops[si])
            src.append(payer)
            dst.append(drop)
            ts.append(t)
            amt.append(kzt * 100)
            chan.append(CH["card_p2p"] if use_card else CH["phone_p2p"])
            desc.append(int(notes[rng.integers(0, len(notes))]) if rng.random() < 0.15 else 0)
            shop_col.append(si)
            post_col.append(ai)
            received[(si, drop)].append(_Pay(t, kzt * 100))
            spell_of_pay[(si, drop)] = sp
            actual_buyers.add(int(b))
    parts = [Flows.make(src, dst, ts, amt, chan, ACT["drug"], desc=desc, leg=LEG["buyer_to_drop"],
                        shop=shop_col, post=post_col)] if src else []
    parts += crypto_parts

    # drops forward batches to a collector, keeping a 1-3 % commission
    col_in: dict[tuple[int, int], list[_Pay]] = defaultdict(list)
    for (si, drop), pays in sorted(received.items()):
        shop = shops[si]
        pays.sort(key=lambda p: p.ts)
        sp = spell_of_pay[(si, drop)]
        commission = rng.uniform(0.01, 0.03)
        collector = acc_index[shop.collectors[int(rng.integers(0, len(shop.collectors)))]]
        by_phone = book.phone[collector] is not None and rng.random() < 0.4
        batch: list[_Pay] = []
        limit_n, limit_t = int(rng.integers(1, 5)), int(rng.uniform(1, 8) * HOUR)
        for i, p in enumerate(pays):
            batch.append(p)
            last = i == len(pays) - 1
            if last or len(batch) >= limit_n or pays[i + 1].ts - batch[0].ts > limit_t:
                t = p.ts + int(rng.uniform(0.2, 3) * HOUR)
                t = min(t, max(_ts(sp.end) + 12 * HOUR, p.ts + 600))
                total = sum(x.amt for x in batch)
                out = int(total * (1 - commission)) // 10_000 * 10_000  # whole hundreds of tenge
                if out > 0:
                    parts.append(Flows.make([drop], [collector], [t], [out],
                                            CH["phone_p2p"] if by_phone else CH["card_p2p"], ACT["drug"],
                                            leg=LEG["drop_to_collector"], shop=si))
                    col_in[(si, collector)].append(_Pay(t, out))
                batch = []
                limit_n, limit_t = int(rng.integers(1, 5)), int(rng.uniform(1, 8) * HOUR)

    # some shops run two tiers: junior collectors pass what they gather on to a senior one within hours
    senior_of: dict[tuple[int, int], int] = {}
    for si, shop in enumerate(shops):
        if len(shop.collectors) >= 2 and rng.random() < 0.4:
            for a in shop.collectors[1:]:
                senior_of[(si, acc_index[a])] = acc_index[shop.collectors[0]]
    for key in sorted(k for k in col_in if k in senior_of):
        si, col = key
        senior = senior_of[key]
        pays = sorted(col_in.pop(key), key=lambda p: p.ts)
        j = 0
        while j < len(pays):
            k = int(rng.integers(1, 4))
            batch = pays[j:j + k]
            j += k
            t = batch[-1].ts + int(rng.uniform(1, 6) * HOUR)
            out = int(sum(p.amt for p in batch) * rng.uniform(0.95, 0.99)) // 10_000 * 10_000
            if out > 0:
                parts.append(Flows.make([col], [senior], [t], [out], CH["card_p2p"], ACT["drug"],
                                        leg=LEG["collector_to_collector"], shop=si))
                col_in[(si, senior)].append(_Pay(t, out))

    # collectors: every 12-36 h split what they hold between exchangers, ATMs and abroad
    ex_wallet_of = {int(b): int(w) for b, w in zip(pop.exchanger_bank, pop.exchanger_wallet)}
    for (si, col), pays in sorted(col_in.items()):
        shop = shops[si]
        pays.sort(key=lambda p: p.ts)
        tron_wallets = [wallet_index[w.account_id] for w in shop.wallets if w.chain == "tron"]
        i, held = 0, 0
        t = pays[0].ts + int(rng.uniform(12, 36) * HOUR)
        while i < len(pays) or held > 20_000_00:
            while i < len(pays) and pays[i].ts < t:
                held += pays[i].amt
                i += 1
            if held > 20_000_00:
                to_ex = int(held * rng.uniform(0.55, 0.75)) // 100_000 * 100_000
                to_cash = int(held * rng.uniform(0.1, 0.25)) // 500_000 * 500_000
                to_abroad = int(held * rng.uniform(0.05, 0.15)) // 100_000 * 100_000 \
                    if shop_foreign.get(shop.shop_id) and rng.random() < 0.4 else 0
                to_abroad = max(0, min(to_abroad, held - to_ex - to_cash))
                tt = t
                if to_ex > 0:
                    ex = acc_index[shop.exchangers[int(rng.integers(0, len(shop.exchangers)))]]
                    parts.append(Flows.make([col], [ex], [tt], [to_ex],
                                            CH["card_p2p"] if rng.random() < 0.6 else CH["iban_transfer"],
                                            ACT["drug"], leg=LEG["collector_to_exchanger"], shop=si))
                    usdt_t = tt + int(rng.uniform(300, 3600))
                    parts.append(Flows.make([ex_wallet_of[ex]], [tron_wallets[int(rng.integers(0, len(tron_wallets)))]],
                                            [usdt_t], [int(to_ex * rng.uniform(0.975, 0.99))], CH["crypto_transfer"],
                                            ACT["drug"], leg=LEG["exchanger_to_wallet"], shop=si))
                rest = to_cash
                while rest > 0:
                    tt += int(rng.uniform(60, 1800))
                    w = min(rest, int(rng.choice([100_000, 150_000, 200_000])) * 100)
                    atm = acc_index[shop.cash_out[int(rng.integers(0, len(shop.cash_out)))]]
                    parts.append(Flows.make([col], [atm], [tt], [w], CH["atm_withdrawal"], ACT["drug"],
                                            leg=LEG["collector_to_cash"], shop=si))
                    rest -= w
                if to_abroad > 0:
                    fa = shop_foreign[shop.shop_id]
                    parts.append(Flows.make([col], [fa[int(rng.integers(0, len(fa)))]], [tt + int(rng.uniform(600, 7200))],
                                            [to_abroad], CH["swift"], ACT["drug"], leg=LEG["collector_to_foreign"],
                                            shop=si))
                held -= to_ex + to_cash + to_abroad
            if i >= len(pays) and held <= 20_000_00:
                break
            t += int(rng.uniform(12, 36) * HOUR)
            if t > end_ts + 3 * 86_400:
                break
    flows = Flows.concat(parts)
    keep = flows.ts < end_ts
    return flows.take(keep), np.array(sorted(actual_buyers), dtype=np.int64)
