"""People, businesses, cash points and their accounts: who banks where, who knows whom, who earns what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from narcotrace import identifiers
from narcotrace.sim import ids

# Cities with population weights (roughly census proportions of the largest cities).
CITIES = ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Ust-Kamenogorsk",
          "Semey", "Atyrau", "Kostanay", "Kyzylorda", "Uralsk", "Petropavlovsk", "Aktau", "Turkestan")
CITY_WEIGHTS = np.array([22, 16, 12, 5, 5, 4, 3.5, 3.5, 3, 3, 2.5, 2.5, 2.5, 2, 2, 2], dtype=float)

KZT_PER = {"KZT": 1.0, "USDT": 505.0, "USD": 505.0, "EUR": 545.0, "TRY": 14.5, "GEL": 187.0, "AED": 137.5,
           "BTC": 505.0 * 95_000, "ETH": 505.0 * 3_300}
FOREIGN_CCY = {"TR": "TRY", "GE": "GEL", "AE": "AED", "LT": "EUR", "DE": "EUR"}

_FIRST_M = ["Азамат", "Ерлан", "Нурлан", "Данияр", "Арман", "Бауыржан", "Тимур", "Алексей", "Дмитрий", "Сергей",
            "Асхат", "Ержан", "Марат", "Руслан", "Айдос", "Олжас", "Максим", "Андрей", "Санжар", "Дастан",
            "Ильяс", "Нурсултан", "Жандос", "Виктор", "Кайрат", "Мирас", "Алибек", "Евгений", "Талгат", "Арсен"]
_FIRST_F = ["Айгерим", "Динара", "Асель", "Мадина", "Жанна", "Гульнара", "Анна", "Елена", "Ольга", "Аружан",
            "Сауле", "Камила", "Дана", "Алия", "Назерке", "Татьяна", "Ирина", "Айжан", "Жансая", "Томирис",
            "Меруерт", "Светлана", "Карина", "Әсел", "Балжан", "Индира", "Мария", "Лаура", "Ботагоз", "Зарина"]
_LAST = ["Ахметов", "Нурланов", "Сейткали", "Жумабаев", "Касымов", "Иванов", "Ким", "Абдрахманов", "Смагулов",
         "Омаров", "Тулегенов", "Сулейменов", "Петров", "Бекмуханов", "Мукашев", "Есенов", "Искаков",
         "Кенжебаев", "Байжанов", "Алиев", "Попов", "Шевченко", "Ибраев", "Калиев", "Мусин", "Садыков",
         "Утепов", "Жакупов", "Оспанов", "Рахимов", "Тен", "Цой", "Хасенов", "Габдуллин", "Ермеков"]
_BIZ_WORDS = ["Алтын", "Береке", "Самал", "Достар", "Нур", "Тау", "Жулдыз", "Шанырак", "Астық", "Арман",
              "Болашак", "Сенім", "Кемел", "Ақжол", "Медеу", "Тұран", "Байтерек", "Орда", "Алатау", "Есиль",
              "Ulan", "Steppe", "Silk", "Nomad", "Apple", "Green", "Smart", "City", "Prime", "Delta"]
_BIZ_TAILS = {
    "employer": ["Строй", "Логистик", "Сервис", "Групп", "Инжиниринг", "Трейд", "Холдинг", "Агро", "Медикал"],
    "grocery": ["Маркет", "Продукты", "Супермаркет", "Минимаркет"],
    "cafe": ["Кофе", "Кафе", "Бургер", "Донер", "Пицца", "Асхана"],
    "clothing": ["Fashion", "Style", "Обувь", "Одежда"],
    "pharmacy": ["Аптека", "Фарм", "Дәріхана"],
    "fuel": ["Ойл", "АЗС", "Петрол"],
    "electronics": ["Электроникс", "Техно", "Digital"],
    "online": ["Шоп", "Store", "Маркетплейс"],
    "taxi": ["Такси", "Go", "Drive"],
    "beauty": ["Салон", "Beauty", "Barber"],
    "bigticket": ["Авто", "Мебель", "Недвижимость", "Motors"],
    "supplier": ["Опт", "Дистрибьюшн", "Поставка", "Импорт"],
    "charity": ["Фонд", "Қайырымдылық қоры", "Foundation"],
}
# POS categories: (weight of visits, median ticket in KZT, lognormal sigma)
POS_CATEGORIES = {
    "grocery": (40, 4_500, 0.8), "cafe": (16, 3_200, 0.6), "clothing": (5, 18_000, 0.7),
    "pharmacy": (7, 3_800, 0.7), "fuel": (8, 11_000, 0.5), "electronics": (2, 45_000, 0.9),
    "online": (10, 9_000, 0.9), "taxi": (9, 1_600, 0.5), "beauty": (3, 8_000, 0.5),
}
UTILITIES = [("electricity", "Энергосбыт", 6_500), ("water", "Водоканал", 3_000), ("heating", "Теплосети", 9_000),
             ("gas", "Газ", 2_500), ("internet", "Интернет", 7_000), ("mobile", "Мобайл", 3_500),
             ("housing", "КСК", 5_000)]

# Share of transfers by LOCAL hour (UTC+5); ordinary.clock shifts them to UTC.
HOUR_WEEKDAY = np.array([.6, .35, .2, .15, .15, .3, 1, 2.5, 4, 5, 5.5, 6, 7, 6.5, 6, 6, 6, 6.5, 7.5, 8, 7.5,
                         6, 4, 2], dtype=float)
HOUR_WEEKEND = np.array([1.2, .8, .5, .3, .2, .2, .4, .8, 1.8, 3.5, 5, 6.5, 7.5, 7.5, 7, 7, 7, 7, 7.5, 7.5, 7,
                         5.5, 4, 2.5], dtype=float)


@dataclass
class AccountBook:
    """Every account of the world, column by column, indexed by position (the int used in flows)."""

    account_id: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    bank: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    holder_id: list[str] = field(default_factory=list)
    holder_name: list[str] = field(default_factory=list)
    holder_kind: list[str] = field(default_factory=list)
    card: list[str | None] = field(default_factory=list)
    phone: list[str | None] = field(default_factory=list)
    iban: list[str | None] = field(default_factory=list)
    address: list[str | None] = field(default_factory=list)
    currency: list[str] = field(default_factory=list)
    opened_at: list[datetime] = field(default_factory=list)
    savings: list[float] = field(default_factory=list)  # KZT the holder keeps before the window starts
    overdraft: list[float] = field(default_factory=list)  # KZT the bank lets the account go below zero
    role: list[str] = field(default_factory=list)
    lookalike: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.taken: set[str] = set()  # card numbers and IBANs issued so far: never issue one twice

    def __len__(self) -> int:
        return len(self.account_id)

    def add(self, n: int, **cols) -> np.ndarray:
        """Append n accounts; each column is a list of n values or one scalar for all."""
        first = len(self.account_id)
        defaults = {"card": None, "phone": None, "iban": None, "address": None, "country": "KZ",
                    "currency": "KZT", "overdraft": 0.0, "role": "normal", "lookalike": None}
        for name in self.__dataclass_fields__:
            v = cols.get(name, defaults.get(name))
            col = getattr(self, name)
            if isinstance(v, (list, tuple, np.ndarray)):
                assert len(v) == n, name
                col.extend(v.tolist() if isinstance(v, np.ndarray) else v)
            else:
                col.extend([v] * n)
        return np.arange(first, first + n)


@dataclass
class Population:
    """People and businesses of the world, with their accounts in `book`."""

    book: AccountBook
    start: datetime
    # people (index p)
    n_people: int
    person_name: list[str]
    person_city: np.ndarray
    person_primary: np.ndarray  # account index of the phone-linked main account
    person_accounts: np.ndarray  # (P, 3) account indexes, -1 where none
    person_phone: list[str]
    activity: np.ndarray  # spending multiplier, heavy-tailed
    contacts_ptr: np.ndarray  # CSR of the social graph (family doubled)
    contacts: np.ndarray
    employer: np.ndarray  # business index or -1
    salary: np.ndarray  # monthly KZT
    pay_days: np.ndarray  # (P, 2) day of month, -1 where none
    landlord: np.ndarray  # person index or -1
    rent: np.ndarray
    rent_day: np.ndarray
    remit_to: np.ndarray  # foreign account index or -1
    passthrough: np.ndarray  # bool: moves the salary on at once
    wallet: np.ndarray  # own crypto wallet account index or -1
    seller_people: np.ndarray  # tutors, nail masters, home bakers paid by many card transfers
    seller_weight: np.ndarray
    # businesses and points
    employers: np.ndarray  # account indexes
    merchants: np.ndarray  # account indexes
    merchant_cat: np.ndarray  # index into POS_CATEGORIES
    merchant_city: np.ndarray  # city index, -1 = online / national
    merchant_weight: np.ndarray
    bigticket: np.ndarray
    suppliers: np.ndarray
    utilities: np.ndarray  # account index per UTILITIES entry
    loan_to: np.ndarray  # the bank's loan account a person repays monthly, or -1
    loan_amt: np.ndarray
    loan_day: np.ndarray
    charities: np.ndarray
    atms: np.ndarray
    atm_city: np.ndarray
    foreign: np.ndarray
    exchanger_bank: np.ndarray  # KZT account where customers pay the exchanger
    exchanger_wallet: np.ndarray  # the exchanger's hot wallet paying out crypto
    exchanger_share: np.ndarray
    descriptions: list[str] = field(default_factory=list)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    male = rng.random(n) < 0.5
    fm = rng.integers(0, len(_FIRST_M), n)
    ff = rng.integers(0, len(_FIRST_F), n)
    ln = rng.integers(0, len(_LAST), n)
    out = []
    for i in range(n):
        last = _LAST[ln[i]]
        if male[i]:
            out.append(f"{_FIRST_M[fm[i]]} {last}")
        else:
            fem = last + "а" if last.endswith(("ов", "ев", "ин")) else last
            out.append(f"{_FIRST_F[ff[i]]} {fem}")
    return out


def _biz_names(rng: np.random.Generator, n: int, kind: str) -> list[str]:
    tails = _BIZ_TAILS[kind]
    w = rng.integers(0, len(_BIZ_WORDS), n)
    t = rng.integers(0, len(tails), n)
    form = rng.choice(["ТОО", "ИП", "АО"], n, p=[0.7, 0.25, 0.05]) if kind != "charity" else ["ОФ"] * n
    return [f'{form[i]} "{_BIZ_WORDS[w[i]]} {tails[t[i]]}"' for i in range(n)]


def _opened(rng: np.random.Generator, start: datetime, n: int, years: float = 10) -> list[datetime]:
    """Opening dates before the window, as naive UTC datetimes."""
    secs = rng.integers(30 * 86400, int(years * 365 * 86400), n)
    t0 = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "s")
    return (t0 - secs.astype("timedelta64[s]")).astype("datetime64[us]").tolist()


def _bank_accounts(book: AccountBook, rng: np.random.Generator, bank_idx: np.ndarray, *, holder_ids: list[str],
                   holder_names: list[str], holder_kind: str, start: datetime, savings: np.ndarray,
                   overdraft: np.ndarray | float = 0.0, card_p: float = 0.95, phones: list | None = None,
                   kind: str = "bank", role: str = "normal") -> np.ndarray:
    bb = ids.bank_book()
    n = len(bank_idx)
    banks = [bb.banks[i] for i in bank_idx]
    ibans = ids.kz_ibans(rng, [b.iban_bank_code for b in banks], book.taken)
    has_card = rng.random(n) < card_p
    pick = rng.random(n)
    bins = [b.bins[int(u * len(b.bins))] for b, u in zip(banks, pick)]
    cards = ids.cards(rng, bins, book.taken)
    card_col = [c if h else None for c, h in zip(cards, has_card)]
    return book.add(n, account_id=ibans, kind=kind, bank=[b.code for b in banks], holder_id=holder_ids,
                    holder_name=holder_names, holder_kind=holder_kind, card=card_col,
                    phone=phones if phones is not None else None, iban=ibans, opened_at=_opened(rng, start, n),
                    savings=np.round(savings, 0), overdraft=overdraft, role=role)


def open_account(rng: np.random.Generator, pop: Population, person: int, opened: datetime) -> int:
    """A new card account for a person, opened at `opened` (outside their usual accounts): used by people
    who open a fresh card, and by drops who open one to sell or rent out."""
    bb = ids.bank_book()
    bank = int(rng.choice(len(bb.banks), p=bb.shares))
    i = int(_bank_accounts(pop.book, rng, np.array([bank]), holder_ids=[f"p{person:07d}"],
                           holder_names=[pop.person_name[person]], holder_kind="person", start=pop.start,
                           savings=np.array([0.0]), card_p=1.0)[0])
    pop.book.opened_at[i] = opened.astimezone(UTC).replace(tzinfo=None) if opened.tzinfo else opened
    return i


def _social_graph(rng: np.random.Generator, city: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contacts with a heavy-tailed degree (Pareto stubs paired mostly within a city) plus households."""
    n = len(city)
    deg = np.minimum(2 + np.floor(rng.pareto(1.6, n) * 4).astype(np.int64), 400)
    stubs = np.repeat(np.arange(n), deg)
    # Pair stubs sorted by (city, random): neighbours are mostly from the same city; a shuffled 15 %
    # makes cross-city friendships.
    key = city[stubs] * 2.0 + rng.random(len(stubs))
    cross = rng.random(len(stubs)) < 0.15
    key[cross] = rng.random(cross.sum()) * city.max() * 2.0
    stubs = stubs[np.argsort(key, kind="stable")]
    if len(stubs) % 2:
        stubs = stubs[:-1]
    a, b = stubs[0::2], stubs[1::2]
    # households: runs of 1-5 consecutive people (they were drawn in random order) share a city
    hh_size = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.25, 0.3, 0.22, 0.15, 0.08])
    hh_id = np.repeat(np.arange(n), hh_size)[:n]
    same = hh_id[1:] == hh_id[:-1]
    fa, fb = np.arange(n - 1)[same], np.arange(1, n)[same]
    src = np.concatenate([a, b, fa, fb, fa, fb])  # family edges twice: family gets paid more often
    dst = np.concatenate([b, a, fb, fa, fb, fa])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, src + 1, 1)
    return np.cumsum(ptr), dst.astype(np.int32)


def build_population(rng: np.random.Generator, n_people: int, start: datetime) -> Population:
    book = AccountBook()
    bb = ids.bank_book()
    nb = len(bb.banks)
    P = n_people
    city = rng.choice(len(CITIES), size=P, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    names = _names(rng, P)
    pid = [f"p{i:07d}" for i in range(P)]
    phones = ids.phones(rng, P)

    # --- people's bank accounts: 1-3 banks each, primary by market share (Gumbel top-k without replacement)
    n_acc = rng.choice([1, 2, 3], size=P, p=[0.5, 0.37, 0.13])
    keys = np.log(bb.shares)[None, :] + rng.gumbel(size=(P, nb))
    pref = np.argsort(-keys, axis=1)[:, :3]
    person_accounts = np.full((P, 3), -1, dtype=np.int64)
    overdraft_p = np.where(rng.random(P) < 0.25, np.round(rng.uniform(50_000, 500_000, P), -3), 0.0)
    for slot in range(3):
        who = np.nonzero(n_acc > slot)[0]
        sav = rng.lognormal(np.log(120_000 if slot == 0 else 40_000), 1.2, len(who))
        idx = _bank_accounts(book, rng, pref[who, slot], holder_ids=[pid[i] for i in who],
                             holder_names=[names[i] for i in who], holder_kind="person", start=start,
                             savings=sav, overdraft=overdraft_p[who] if slot == 0 else 0.0,
                             phones=[phones[i] for i in who] if slot == 0 else None)
        person_accounts[who, slot] = idx
    primary = person_accounts[:, 0].copy()
    activity = np.minimum(rng.lognormal(0, 0.55, P), 8.0)
    ptr, contacts = _social_graph(rng, city)

    def businesses(n: int, kind: str, savings_median: float, role: str = "normal") -> np.ndarray:
        names_b = _biz_names(rng, n, kind)
        hid = [f"b-{kind}-{i:05d}" for i in range(n)]
        bank_i = rng.choice(nb, size=n, p=bb.shares)
        return _bank_accounts(book, rng, bank_i, holder_ids=hid, holder_names=names_b, holder_kind="business",
                              start=start, savings=rng.lognormal(np.log(savings_median), 0.8, n), card_p=0.3,
                              role=role)

    # --- employers and salaries
    n_emp = max(5, P // 40)
    employers = businesses(n_emp, "employer", 80_000_000, role="employer")
    emp_size = rng.pareto(1.2, n_emp) + 1
    employed = rng.random(P) < 0.7
    employer = np.where(employed, rng.choice(n_emp, size=P, p=emp_size / emp_size.sum()), -1)
    salary = np.round(rng.lognormal(np.log(330_000), 0.5, P), -2) * employed
    emp_payday = rng.choice([5, 10, 15, 25], size=n_emp)
    biweekly = rng.random(n_emp) < 0.3
    pay_days = np.full((P, 2), -1, dtype=np.int64)
    pay_days[employed, 0] = np.where(biweekly[employer[employed]], 10, emp_payday[employer[employed]])
    pay_days[employed, 1] = np.where(biweekly[employer[employed]], 25, -1)

    # --- merchants
    cats = list(POS_CATEGORIES)
    n_m = max(20, P // 60)
    cat_w = np.array([POS_CATEGORIES[c][0] for c in cats], dtype=float)
    merchant_cat = rng.choice(len(cats), size=n_m, p=cat_w / cat_w.sum())
    merchants = np.concatenate([businesses(int((merchant_cat == k).sum()), c, 5_000_000, role="merchant")
                                for k, c in enumerate(cats)])
    merchant_cat = np.sort(merchant_cat, kind="stable")
    merchant_city = rng.choice(len(CITIES), size=n_m, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    merchant_city[np.isin(merchant_cat, [cats.index("online"), cats.index("taxi")])] = -1
    # every city has at least one grocery so local POS always finds a shop
    groc = np.nonzero(merchant_cat == cats.index("grocery"))[0]
    merchant_city[groc[: len(CITIES)]] = np.arange(min(len(CITIES), len(groc)))
    merchant_weight = rng.pareto(1.1, n_m) + 1
    bigticket = businesses(max(3, P // 2000), "bigticket", 200_000_000, role="merchant")
    suppliers = businesses(max(5, P // 500), "supplier", 100_000_000, role="merchant")
    charities = businesses(max(2, P // 8000), "charity", 2_000_000, role="charity")
    for i in charities:
        book.lookalike[i] = "charity"
    util_names = [f'АО "{u[1]}"' for u in UTILITIES]
    utilities = _bank_accounts(book, rng, rng.choice(nb, size=len(UTILITIES), p=bb.shares),
                               holder_ids=[f"b-utility-{u[0]}" for u in UTILITIES], holder_names=util_names,
                               holder_kind="business", start=start,
                               savings=np.full(len(UTILITIES), 1e10), card_p=0.0, role="utility")

    # --- consumer loans (most people in Kazakhstan buy on instalments): repaid monthly to the bank
    loan_acc = _bank_accounts(book, rng, np.arange(nb), holder_ids=[f"b-loans-{b.code}" for b in bb.banks],
                              holder_names=[f'АО "{b.name}" (погашение кредитов)' for b in bb.banks],
                              holder_kind="business", start=start, savings=np.full(nb, 1e11), card_p=0.0,
                              role="bank")
    bank_pos = {b.code: i for i, b in enumerate(bb.banks)}
    has_loan = rng.random(P) < 0.35
    loan_to = np.where(has_loan, loan_acc[[bank_pos[book.bank[a]] for a in primary]], -1)
    loan_amt = np.round(rng.lognormal(np.log(35_000), 0.6, P), -1) * has_loan
    loan_day = rng.integers(1, 29, P)

    # --- ATMs (also the cash-out points of shops: they look the same)
    atm_city = np.concatenate([np.full(max(2, int(round((city == c).sum() / 250))), c) for c in range(len(CITIES))])
    atm_bank = rng.choice(nb, size=len(atm_city), p=bb.shares)
    atm_ids = [f"cash:atm-{bb.banks[b].code}-{CITIES[c].lower()}-{i:05d}" for i, (b, c) in
               enumerate(zip(atm_bank, atm_city))]
    atms = book.add(len(atm_ids), account_id=atm_ids, kind="cash", bank=[bb.banks[b].code for b in atm_bank],
                    holder_id=[f"atm-{i:05d}" for i in range(len(atm_ids))],
                    holder_name=[f"ATM {bb.banks[b].name}, {CITIES[c]}" for b, c in zip(atm_bank, atm_city)],
                    holder_kind="atm", opened_at=_opened(rng, start, len(atm_ids)), savings=1e12, role="atm")

    # --- foreign accounts: relatives abroad and foreign firms
    n_f = max(20, P // 150)
    fb = rng.integers(0, len(bb.foreign), n_f)
    fibans = [ids.foreign_iban(rng, bb.foreign[i]) for i in fb]
    foreign = book.add(n_f, account_id=fibans, kind="foreign", bank=[bb.foreign[i].code for i in fb],
                       country=[bb.foreign[i].country for i in fb], holder_id=[f"f{i:05d}" for i in range(n_f)],
                       holder_name=_names(rng, n_f), holder_kind="person", iban=fibans,
                       currency=[FOREIGN_CCY[bb.foreign[i].country] for i in fb],
                       opened_at=_opened(rng, start, n_f), savings=rng.lognormal(np.log(500_000), 1, n_f),
                       role="foreign")

    # --- crypto exchangers: a KZT account customers pay by card, and a hot wallet paying out crypto
    ex = bb.exchangers
    ex_bank_i = rng.choice(nb, size=len(ex), p=bb.shares)
    exchanger_bank = _bank_accounts(book, rng, ex_bank_i, holder_ids=[f"b-exchanger-{e['code']}" for e in ex],
                                    holder_names=[f'ТОО "{e["name"]}"' for e in ex], holder_kind="business",
                                    start=start, savings=np.full(len(ex), 50_000_000.0), card_p=1.0,
                                    kind="exchanger", role="exchanger")
    addrs = [ids.wallet(rng, e["chain"]) for e in ex]
    wid = [identifiers.crypto(e["chain"], a) for e, a in zip(ex, addrs)]
    exchanger_wallet = book.add(len(ex), account_id=wid, kind="exchanger", bank=[e["chain"] for e in ex],
                                country="", holder_id=[f"b-exchanger-{e['code']}" for e in ex],
                                holder_name=[f'{e["name"]} hot wallet' for e in ex], holder_kind="business",
                                address=addrs, currency=["USDT" if e["chain"] == "tron" else "BTC" for e in ex],
                                opened_at=_opened(rng, start, len(ex), 4), savings=1e11, role="exchanger")
    exchanger_share = np.array([float(e["market_share"]) for e in ex])

    # --- people's own crypto wallets (legitimate exchanger customers)
    has_w = rng.random(P) < 0.04
    chains = rng.choice(["tron", "btc", "eth"], size=int(has_w.sum()), p=[0.7, 0.2, 0.1])
    who = np.nonzero(has_w)[0]
    waddr = [ids.wallet(rng, c) for c in chains]
    wids = [identifiers.crypto(c, a) for c, a in zip(chains, waddr)]
    widx = book.add(len(who), account_id=wids, kind="wallet", bank=list(chains), country="",
                    holder_id=[pid[i] for i in who], holder_name=[names[i] for i in who], holder_kind="person",
                    address=waddr, currency=[{"tron": "USDT", "btc": "BTC", "eth": "ETH"}[c] for c in chains],
                    opened_at=_opened(rng, start, len(who), 5), savings=0.0)
    wallet = np.full(P, -1, dtype=np.int64)
    wallet[who] = widx

    # --- rent, remittances, pass-through, sellers (look-alikes of drug money)
    landlords = rng.choice(P, size=max(3, P // 40), replace=False)
    renter = rng.random(P) < 0.3
    landlord = np.where(renter, landlords[rng.integers(0, len(landlords), P)], -1)
    landlord[landlord == np.arange(P)] = -1
    rent = np.round(rng.uniform(70_000, 260_000, P), -3) * (landlord >= 0)
    rent_day = rng.integers(1, 6, P)
    remit = rng.random(P) < 0.02
    remit_to = np.where(remit, foreign[rng.integers(0, len(foreign), P)], -1)
    passthrough = employed & (rng.random(P) < 0.06)
    sellers = rng.choice(P, size=max(10, int(P * 0.015)), replace=False)
    seller_weight = np.minimum(rng.pareto(1.3, len(sellers)) + 1, 25.0)  # a busy tutor, not a bank
    kinds = rng.choice(["tutor", "small_seller"], size=len(sellers))
    for p, k in zip(sellers, kinds):
        book.lookalike[primary[p]] = k
    for p in np.nonzero(passthrough)[0]:
        book.lookalike[primary[p]] = "salary_passthrough"
    for p in np.nonzero(remit)[0]:
        book.lookalike[primary[p]] = "remitter"

    return Population(
        book=book, start=start, n_people=P, person_name=names, person_city=city, person_primary=primary,
        person_accounts=person_accounts, person_phone=phones, activity=activity, contacts_ptr=ptr,
        contacts=contacts, employer=employer, salary=salary, pay_days=pay_days, landlord=landlord, rent=rent,
        rent_day=rent_day, remit_to=remit_to, passthrough=passthrough, wallet=wallet, seller_people=sellers,
        seller_weight=seller_weight, employers=employers, merchants=merchants, merchant_cat=merchant_cat,
        merchant_city=merchant_city, merchant_weight=merchant_weight, bigticket=bigticket, suppliers=suppliers,
        utilities=utilities, loan_to=loan_to, loan_amt=loan_amt, loan_day=loan_day, charities=charities, atms=atms, atm_city=atm_city, foreign=foreign,
        exchanger_bank=exchanger_bank, exchanger_wallet=exchanger_wallet, exchanger_share=exchanger_share,
    )
