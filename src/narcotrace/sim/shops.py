"""Drug shops: brands, handles, bots, sites, cities, and their money route (drops, collectors, exchangers,
cash-out points, wallets), built on the accounts of ordinary people."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from narcotrace import identifiers
from narcotrace.errors import UserError
from narcotrace.sim import ids
from narcotrace.sim.model import DropSpell, Shop, Wallet
from narcotrace.sim.population import CITIES, CITY_WEIGHTS, Population, open_account

# Lexicon categories (src/narcotrace/sim/text/drugs.yaml) the shops sell.
DRUGS = ("mephedrone", "alpha_pvp", "cannabis", "synthetic_cannabinoids", "cocaine", "amphetamine", "mdma",
         "psychedelics", "opioids", "prescription_pills")
DRUG_WEIGHTS = np.array([30, 20, 18, 8, 4, 6, 5, 3, 2, 2], dtype=float)
# Bookmark (клад) prices in KZT: (item, low, high); the buyer pays one item (sometimes two).
PRICES = {
    "mephedrone": [("1g", 15_000, 25_000), ("2g", 28_000, 45_000), ("0.5g", 9_000, 14_000)],
    "alpha_pvp": [("0.5g", 10_000, 15_000), ("1g", 18_000, 26_000)],
    "cannabis": [("1g", 8_000, 12_000), ("3g", 22_000, 32_000), ("5g", 35_000, 50_000)],
    "synthetic_cannabinoids": [("1g", 6_000, 10_000), ("3g", 15_000, 24_000)],
    "cocaine": [("1g", 40_000, 60_000), ("0.5g", 22_000, 32_000)],
    "amphetamine": [("1g", 12_000, 18_000), ("2g", 22_000, 32_000)],
    "mdma": [("1pc", 8_000, 12_000), ("3pc", 22_000, 32_000)],
    "psychedelics": [("1pc", 9_000, 14_000), ("3pc", 24_000, 34_000)],
    "opioids": [("0.5g", 12_000, 18_000), ("1g", 22_000, 32_000)],
    "prescription_pills": [("10pc", 8_000, 15_000), ("20pc", 15_000, 26_000)],
}
_BRAND_A = ["Белый", "Снежный", "Кристалл", "Северный", "Алмаз", "Сахар", "Шайтан", "Барон", "Химик", "Лунный",
            "Nomad", "Snow", "Crystal", "Ice", "Candy", "Steppe", "Green", "Mr", "Dr", "Magic", "Dark", "Royal"]
_BRAND_B = ["Кролик", "Лис", "Барс", "Шоп", "Маркет", "Клад", "Дом", "Мир", "Город", "Кот", "Store", "Shop", "Market",
            "Room", "Fox", "Queen", "King", "Factory", "Lab", "Garden", "Express", "Club"]
_TRANSLIT = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
                           "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
                           "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch",
                           "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"})


def _slug(text: str) -> str:
    return "".join(c for c in text.lower().translate(_TRANSLIT) if c.isalnum())


def n_shops_for(people: int) -> int:
    return max(3, people // 2000)


def build_shops(rng: np.random.Generator, pop: Population, n_shops: int, start: datetime, days: int) -> list[Shop]:
    """Shops with drop spells over [start - a few days, start + days), using people's accounts as drops."""
    book = pop.book
    used: set[int] = set()  # people already working for a shop
    taken_brands: set[str] = set()
    shops: list[Shop] = []
    city_p = CITY_WEIGHTS / CITY_WEIGHTS.sum()
    end = start + timedelta(days=days)

    def recruit(city_idx: list[int]) -> int:
        """A person of one of these cities not yet working for any shop."""
        for _ in range(1000):
            p = int(rng.integers(0, pop.n_people))
            if p in used:
                continue
            if pop.person_city[p] in city_idx or rng.random() < 0.1:
                used.add(p)
                return p
        free = [p for p in range(pop.n_people) if p not in used]
        if free:
            used.add(free[0])
            return free[0]
        raise UserError(f"--people {pop.n_people}: too few people to staff {n_shops} shops over {days} days "
                        "(each drop and collector is a different person); give more people, fewer shops or days")

    for s in range(n_shops):
        while True:
            brand = f"{rng.choice(_BRAND_A)} {rng.choice(_BRAND_B)}"
            if brand not in taken_brands or len(taken_brands) > 300:
                break
        taken_brands.add(brand)
        slug = _slug(brand)
        tail = str(rng.choice(["kz", "24", "shop", "ast", "alm", "7", "777", "official", "new"]))
        n_handles = int(rng.integers(1, 4))
        handles = [f"{slug}_{tail}"] + [f"{slug}{int(rng.integers(1, 99))}" for _ in range(n_handles - 1)]
        bots = [f"{slug}_bot"] + ([f"{slug}{tail}bot"] if rng.random() < 0.4 else [])
        domain = f"{slug}{tail}.{rng.choice(['shop', 'cc', 'top', 'biz', 'site'])}" if rng.random() < 0.3 else None
        onion = ids.onion_v3(rng) if rng.random() < 0.25 else None
        n_c = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
        cidx = sorted(rng.choice(len(CITIES), size=n_c, replace=False, p=city_p).tolist())
        cities = [CITIES[c] for c in cidx]
        langs = ["ru"] + (["kk"] if rng.random() < 0.4 else []) + (["en"] if rng.random() < 0.2 else [])
        n_d = int(rng.integers(2, 6))
        drugs = sorted(rng.choice(DRUGS, size=n_d, replace=False, p=DRUG_WEIGHTS / DRUG_WEIGHTS.sum()).tolist())
        shop_id = f"ch-{s + 1:04d}"

        # Drops rotate: 1-3 slots run in parallel; each spell lasts days to weeks and the next starts
        # a little before the previous ends (overlap), so an ad can name two cards at once.
        spells: list[DropSpell] = []
        n_slots = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        for _ in range(n_slots):
            t = start - timedelta(days=float(rng.uniform(0, 6)))
            while t < end:
                dur = timedelta(days=float(np.clip(rng.lognormal(np.log(8), 0.6), 2, 30)))
                p = recruit(cidx)
                # a rented card is often the person's second account (phone transfers reach the primary);
                # some drops open a fresh card a few days before to sell it
                accs = pop.person_accounts[p]
                if rng.random() < 0.25:
                    acc = open_account(rng, pop, p, t - timedelta(days=float(rng.uniform(1, 14))))
                else:
                    acc = int(accs[1] if accs[1] >= 0 and rng.random() < 0.6 else accs[0])
                card = book.card[acc]
                phone = book.phone[acc] if rng.random() < 0.6 else None
                if card is None and phone is None:
                    phone = book.phone[acc]
                    if phone is None:
                        acc = int(accs[0])
                        card, phone = book.card[acc], book.phone[acc]
                spells.append(DropSpell(book.account_id[acc], card, phone, t, t + dur))
                t = t + dur - timedelta(hours=float(rng.uniform(0, 36)))
        collectors = []
        for _ in range(int(rng.integers(1, 4))):
            p = recruit(cidx)
            collectors.append(book.account_id[int(pop.person_accounts[p][0])])
        # shops take KZT in and USDT (TRON) out, so they use the exchangers paying out on TRON
        tron = np.array([e for e in range(len(pop.exchanger_bank)) if book.bank[pop.exchanger_wallet[e]] == "tron"])
        share = pop.exchanger_share[tron] / pop.exchanger_share[tron].sum()
        ex = tron[rng.choice(len(tron), size=min(len(tron), int(rng.integers(1, 3))), replace=False, p=share)]
        exchangers = [book.account_id[int(pop.exchanger_bank[e])] for e in sorted(ex)]
        atm_pool = pop.atms[np.isin(pop.atm_city, cidx)]
        cash = [book.account_id[int(a)] for a in rng.choice(atm_pool, size=min(len(atm_pool), int(rng.integers(2, 5))),
                                                            replace=False)]
        wallets = []
        for chain in ["tron"] * int(rng.integers(1, 3)) + (["btc"] if rng.random() < 0.3 else []):
            addr = ids.wallet(rng, chain)
            wallets.append(Wallet(chain, addr, identifiers.crypto(chain, addr)))
        shops.append(Shop(shop_id=shop_id, brand=brand, handles=handles, bots=bots, domain=domain, onion=onion,
                          cities=cities, langs=langs, drugs=drugs, drops=spells, collectors=collectors,
                          exchangers=exchangers, cash_out=cash, wallets=wallets))
    return shops
