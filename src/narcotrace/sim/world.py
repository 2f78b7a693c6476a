"""`simulate`: build a synthetic, fully labelled world and write it (posts, accounts, transfers, truth)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from narcotrace.console import progress
from narcotrace.errors import UserError
from narcotrace.sim import ids
from narcotrace.sim import output
from narcotrace.sim.drugs import drug_money
from narcotrace.sim.flows import Flows, Vocab
from narcotrace.sim.laundering import laundering
from narcotrace.sim.ledger import Ledger
from narcotrace.sim.ordinary import DAY, OrdinaryLife
from narcotrace.sim.population import CITIES, FOREIGN_CCY, build_population
from narcotrace.sim.shops import build_shops, n_shops_for

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
# Rows per chunk of generated transfers: bounds memory whatever the world's size.
CHUNK_ROWS = 1_500_000


@dataclass
class Summary:
    """What a simulated world holds, as counts, and where it was written."""

    out: Path
    counts: dict[str, int] = field(default_factory=dict)

    def render(self):
        from rich.table import Table

        t = Table(title=f"synthetic world in {self.out}")
        t.add_column("what")
        t.add_column("count", justify="right")
        for k, v in self.counts.items():
            t.add_row(k.replace("_", " "), f"{v:,}")
        return t


def _n_ordinary(people: int) -> int:
    """Ordinary posts among the ads: grows with the population, capped so huge worlds stay fast to write."""
    return min(max(300, people // 8), 8_000)


def _posts_api():
    """The post generator (posts.py): generate_posts and write_posts."""
    from narcotrace.sim import posts

    return posts.generate_posts, posts.write_posts


def _check_args(out: Path, people: int, days: int, shops: int | None) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a folder; give a folder to write the world into")
    if people < 50:
        raise UserError(f"--people {people}: need at least 50 people for a world with shops and drops")
    if not 1 <= days <= 3650:
        raise UserError(f"--days {days}: give a number of days from 1 to 3650")
    if shops is not None and shops < 1:
        raise UserError(f"--shops {shops}: give at least 1 shop, or leave it out for the default")
    if shops is not None and shops > max(1, people // 100):
        raise UserError(f"--shops {shops}: too many for {people} people (at most {max(1, people // 100)})")


def simulate(out: Path, *, seed: int, people: int, days: int, shops: int | None = None, csv: bool = False,
             start: datetime | None = None) -> Summary:
    """Write a world of `people` people over `days` days into `out`; the same arguments give the same bytes."""
    out = Path(out)
    _check_args(out, people, days, shops)
    start = (start or DEFAULT_START).astimezone(UTC)
    start_ts = int(start.timestamp())
    try:
        (out / "truth").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {out}: cannot create the folder ({e.strerror})") from e
    seeds = np.random.SeedSequence(seed).spawn(10)
    rng = [np.random.default_rng(s) for s in seeds]
    generate_posts, write_posts = _posts_api()

    with progress() as bar:
        task = bar.add_task("simulate: people and shops", total=days + 4)
        pop = build_population(rng[0], people, start)
        book = pop.book
        shop_list = build_shops(rng[1], pop, shops or n_shops_for(people), start, days)
        wallet_index = _shop_accounts(rng[1], pop, shop_list, start)
        bar.advance(task)

        bar.update(task, description="simulate: posts and ads")
        posts = generate_posts(rng[2], shop_list, start=start, days=days, n_ordinary=_n_ordinary(people),
                               cities=list(CITIES), **_public_accounts(rng[2], pop, shop_list, generate_posts))
        ads = posts.ads
        # a recruited drop whose card or phone never made it into an ad is no drop: it stays a normal account
        named = {(a.shop_id, acc) for a in ads for acc in a.account_ids}
        for s in shop_list:
            s.drops = [d for d in s.drops if (s.shop_id, d.account_id) in named]
        post_ids = [a.post_id for a in ads]
        bar.advance(task)

        bar.update(task, description="simulate: drug money and laundering")
        vocab = Vocab()
        life = OrdinaryLife(pop, vocab, start_ts, days)
        shop_foreign = {s.shop_id: [book.account_id.index(a) for a in s.foreign] for s in shop_list}
        drug, buyers = drug_money(rng[3], pop, shop_list, ads, start, days, vocab, shop_foreign, wallet_index,
                                  posts.indicators)
        crime_accounts = _crime_accounts(book, shop_list)
        per_shape = max(2, round(people / 2500))
        laund, members = laundering(rng[4], pop, start_ts, days, crime_accounts, per_shape)
        special = Flows.concat([drug, laund, life.scheduled(rng[5]), life.group_collections(rng[6]),
                                life.charities(rng[7]), life.crypto_trades(rng[8]),
                                life.new_accounts(np.random.default_rng(seeds[9].spawn(1)[0]))])
        special = special.take(np.argsort(special.ts, kind="stable"))
        bar.advance(task)

        bar.update(task, description="simulate: transfers")
        ledger = Ledger(out, book, [s.shop_id for s in shop_list], post_ids)
        per_day = max(1.0, people * 1.9)
        chunk_days = max(1, int(CHUNK_ROWS // per_day))
        day_seeds = np.random.SeedSequence([seed, 7]).spawn(days)
        try:
            for d0 in range(0, days, chunk_days):
                d1 = min(days, d0 + chunk_days)
                lo = 0 if d0 == 0 else np.searchsorted(special.ts, start_ts + d0 * DAY)
                hi = np.searchsorted(special.ts, start_ts + d1 * DAY)
                parts = [life.day(np.random.default_rng(day_seeds[d]), d) for d in range(d0, d1)]
                parts.append(special.take(slice(lo, hi)))
                ledger.write(Flows.concat(parts), vocab.words)
                bar.advance(task, d1 - d0)
        finally:
            ledger.close()

        bar.update(task, description="simulate: accounts and truth")
        opening = _opening_balances(rng[9], book, ledger)
        output.write_accounts(out, book, opening)
        roles = output.write_truth_accounts(out, book, shop_list, members, buyers, pop)
        drug_stats = output.drug_stats(out)
        output.write_channels(out, shop_list, ads, drug_stats)
        output.write_drop_spells(out, shop_list)
        write_posts(posts, out, csv=csv)
        if csv:
            for rel in ("accounts", "transfers", "truth/accounts", "truth/transfers", "truth/channels",
                        "truth/drop_spells"):
                output.csv_copy(out / f"{rel}.parquet")
        bar.advance(task)

    return Summary(out, _counts(out, pop, shop_list, posts, ledger, roles, per_shape))


def _naive(d: datetime) -> datetime:
    return d.astimezone(UTC).replace(tzinfo=None)


def _shop_accounts(rng: np.random.Generator, pop, shop_list, start: datetime) -> dict[str, int]:
    """Put the shops' wallets and their accounts abroad into the account book."""
    book = pop.book
    index: dict[str, int] = {}
    bb = ids.bank_book()
    for s in shop_list:
        for w in s.wallets:
            i = book.add(1, account_id=[w.account_id], kind="wallet", bank=w.chain, country="",
                         holder_id=s.shop_id, holder_name=f"{s.brand} wallet", holder_kind="shop",
                         address=[w.address], currency="USDT" if w.chain == "tron" else "BTC",
                         opened_at=[_naive(start) - timedelta(days=int(rng.integers(30, 700)))], savings=0.0,
                         role="shop_wallet")[0]
            index[w.account_id] = int(i)
        for _ in range(int(rng.integers(1, 3))):
            fb = bb.foreign[int(rng.integers(0, len(bb.foreign)))]
            iban = ids.foreign_iban(rng, fb)
            book.add(1, account_id=[iban], kind="foreign", bank=fb.code, country=fb.country,
                     holder_id=f"{s.shop_id}-abroad", holder_name=f'{fb.country} LLC "{s.brand.split()[0]} Trade"',
                     holder_kind="business", iban=[iban], currency=FOREIGN_CCY[fb.country],
                     opened_at=[_naive(start) - timedelta(days=int(rng.integers(60, 900)))], savings=0.0,
                     role="shop_foreign")
            s.foreign.append(iban)
    return index


def _public_accounts(rng: np.random.Generator, pop, shop_list, generate_posts) -> dict:
    """Innocent people and businesses who post their card or phone (sellers, tutors, charities, a few more),
    so indicators in ordinary posts point to real accounts too."""
    import inspect

    if "public_accounts" not in inspect.signature(generate_posts).parameters:
        return {}
    book = pop.book
    extra = rng.choice(pop.n_people, size=max(10, pop.n_people // 100), replace=False)
    people = np.unique(np.concatenate([pop.seller_people, extra]))
    crime = _crime_accounts(book, shop_list)
    idx = [int(pop.person_primary[p]) for p in people if int(pop.person_primary[p]) not in crime]
    idx += [int(c) for c in pop.charities]
    return {"public_accounts": [(book.account_id[i], book.card[i], book.phone[i]) for i in idx]}


def _crime_accounts(book, shop_list) -> set[int]:
    idx = {a: i for i, a in enumerate(book.account_id)}
    out: set[int] = set()
    for s in shop_list:
        out |= {idx[d.account_id] for d in s.drops} | {idx[a] for a in s.collectors}
    return out


def _opening_balances(rng: np.random.Generator, book, ledger: Ledger) -> np.ndarray:
    """Each account's balance before the window, in KZT: its savings, raised where its spending needs it.

    Rule: opening_balance + running in - running out >= -overdraft_limit after every transfer; where the
    savings drawn for the holder would break it, the opening is raised to the lowest level that keeps it
    plus a random cushion (people have more in the bank than they spend in a month)."""
    savings = np.round(np.asarray(book.savings, dtype=float) * 100).astype(np.int64)
    overdraft = np.round(np.asarray(book.overdraft, dtype=float) * 100).astype(np.int64)
    need = -ledger.low - overdraft
    cushion = (rng.lognormal(np.log(15_000), 1.0, len(savings)) * 100).astype(np.int64)
    opening = np.maximum(np.where(savings >= need, savings, need + cushion), 0)
    return (opening + 99) // 100  # whole tenge, rounded up so rounding never breaks the rule


def _count_label(posts, label: str) -> int:
    n = 0
    for p in posts.posts:
        v = p.get("label") or p.get("truth_label") or (p.get("truth") or {}).get("label")
        n += v == label
    return n


def _counts(out: Path, pop, shop_list, posts, ledger: Ledger, roles: Counter, per_shape: int) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    t = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE leg IN ('buyer_to_drop', 'buyer_to_wallet')),
               count(*) FILTER (WHERE leg = 'buyer_to_wallet'), count(*) FILTER (WHERE is_drug),
               count(*) FILTER (WHERE is_laundering), count(DISTINCT pattern_id), count(DISTINCT pattern)
        FROM read_parquet('{out / 'truth' / 'transfers.parquet'}')""").fetchone()
    con.close()
    book = pop.book
    kinds = Counter(book.kind)
    return {
        "people": pop.n_people,
        "businesses": len({h for h, k in zip(book.holder_id, book.holder_kind) if k == "business"}),
        "accounts": len(book),
        "bank_accounts": kinds["bank"],
        "wallets": kinds["wallet"],
        "exchanger_accounts": kinds["exchanger"],
        "cash_points": kinds["cash"],
        "foreign_accounts": kinds["foreign"],
        "transfers": int(t[0]),
        "drug_payments": int(t[1]),
        "drug_payments_in_crypto": int(t[2]),
        "drug_transfers_all_legs": int(t[3]),
        "laundering_transfers": int(t[4]),
        "laundering_attempts": int(t[5]),
        "laundering_shapes": int(t[6]),
        "shops": len(shop_list),
        "drops": roles["drop"],
        "drop_spells": sum(len(s.drops) for s in shop_list),
        "collectors": roles["collector"],
        "buyers": _buyers(out),
        "posts": len(posts.posts),
        "sale_ads": len(posts.ads),
        "recruitment_posts": _count_label(posts, "recruitment"),
        "indicators": len(posts.indicators),
    }


def _buyers(out: Path) -> int:
    t = pq.read_table(out / "truth" / "accounts.parquet", columns=["holder_id", "is_buyer"])
    return len(set(h for h, b in zip(t["holder_id"].to_pylist(), t["is_buyer"].to_pylist()) if b))
