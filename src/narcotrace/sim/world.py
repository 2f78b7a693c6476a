"""`simulate`: build a synthetic, fully labelled world and write it (posts, accounts, transfers, truth)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from narcotrace.console import progress
from narcotrace.errors import UserError
from narcotrace.sim import ids
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
        _write_accounts(out, book, opening)
        roles = _write_truth_accounts(out, book, shop_list, members, buyers, pop)
        drug_stats = _drug_stats(out)
        _write_channels(out, shop_list, ads, drug_stats)
        _write_drop_spells(out, shop_list)
        write_posts(posts, out, csv=csv)
        if csv:
            for rel in ("accounts", "transfers", "truth/accounts", "truth/transfers", "truth/channels",
                        "truth/drop_spells"):
                _csv_copy(out / f"{rel}.parquet")
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


def _write_accounts(out: Path, book, opening_kzt: np.ndarray) -> None:
    t = pa.table({
        "account_id": pa.array(book.account_id, pa.string()),
        "kind": book.kind, "bank": book.bank, "country": book.country, "holder_id": book.holder_id,
        "holder_name": book.holder_name, "holder_kind": book.holder_kind,
        "card": pa.array(book.card, pa.string()), "phone": pa.array(book.phone, pa.string()),
        "iban": pa.array(book.iban, pa.string()), "address": pa.array(book.address, pa.string()),
        "currency": book.currency,
        "opened_at": pa.array(book.opened_at, pa.timestamp("us")),  # naive UTC
        "opening_balance": pa.array(opening_kzt.astype(float), pa.float64()),
        "overdraft_limit": pa.array(np.asarray(book.overdraft, dtype=float), pa.float64()),
    })
    pq.write_table(t, out / "accounts.parquet", compression="zstd", store_schema=False)


def _write_truth_accounts(out: Path, book, shop_list, members, buyers, pop) -> Counter:
    idx = {a: i for i, a in enumerate(book.account_id)}
    n = len(book)
    role = list(book.role)
    channel: list[list[str]] = [[] for _ in range(n)]
    for s in shop_list:
        for i in {idx[d.account_id] for d in s.drops}:
            role[i] = "drop"
            channel[i].append(s.shop_id)
        for a in s.collectors:
            role[idx[a]] = "collector"
            channel[idx[a]].append(s.shop_id)
        for a in s.exchangers:
            channel[idx[a]].append(s.shop_id)
        for a in s.cash_out:
            role[idx[a]] = "cash_out"
            channel[idx[a]].append(s.shop_id)
        for w in s.wallets:
            channel[idx[w.account_id]].append(s.shop_id)
        for a in s.foreign:
            channel[idx[a]].append(s.shop_id)
    pattern: list[str | None] = [None] * n
    pattern_ids: list[list[str]] = [[] for _ in range(n)]
    for a, lst in members.items():
        if role[a] in ("normal", "employer", "merchant"):
            role[a] = "laundering"
        pattern[a] = lst[0][0]
        pattern_ids[a] = [f"lp-{pid:05d}" for _, pid in lst]
    is_buyer = np.zeros(n, dtype=bool)
    for p in buyers:
        is_buyer[pop.person_accounts[p][pop.person_accounts[p] >= 0]] = True
    t = pa.table({
        "account_id": pa.array(book.account_id, pa.string()),
        "role": role,
        "channel_id": pa.array([c[0] if len(c) == 1 else None for c in channel], pa.string()),
        "channel_ids": pa.array([sorted(set(c)) for c in channel], pa.list_(pa.string())),
        "pattern": pa.array(pattern, pa.string()),
        "pattern_ids": pa.array(pattern_ids, pa.list_(pa.string())),
        "lookalike": pa.array(book.lookalike, pa.string()),
        "is_buyer": pa.array(is_buyer),
        "holder_id": book.holder_id,
        "kind": book.kind,
    })
    pq.write_table(t, out / "truth" / "accounts.parquet", compression="zstd", store_schema=False)
    return Counter(role)


def _drug_stats(out: Path) -> dict[str, tuple[int, float]]:
    import duckdb

    con = duckdb.connect()
    rows = con.execute(f"""
        SELECT t.channel_id, count(*), sum(x.amount_base)
        FROM read_parquet('{out / 'truth' / 'transfers.parquet'}') t
        JOIN read_parquet('{out / 'transfers.parquet'}') x USING (transfer_id)
        WHERE t.leg IN ('buyer_to_drop', 'buyer_to_wallet') GROUP BY 1""").fetchall()
    con.close()
    return {r[0]: (int(r[1]), float(r[2])) for r in rows}


def _write_channels(out: Path, shop_list, ads, drug_stats) -> None:
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    n_ads: Counter = Counter()
    for a in ads:
        d = a.date if a.date.tzinfo else a.date.replace(tzinfo=UTC)
        first[a.shop_id] = min(first.get(a.shop_id, d), d)
        last[a.shop_id] = max(last.get(a.shop_id, d), d)
        n_ads[a.shop_id] += 1

    def naive(d: datetime | None):
        return d.astimezone(UTC).replace(tzinfo=None) if d else None

    t = pa.table({
        "channel_id": [s.shop_id for s in shop_list],
        "brand": [s.brand for s in shop_list],
        "handles": [s.handles for s in shop_list],
        "bots": [s.bots for s in shop_list],
        "domain": pa.array([s.domain for s in shop_list], pa.string()),
        "onion": pa.array([s.onion for s in shop_list], pa.string()),
        "cities": [s.cities for s in shop_list],
        "langs": [s.langs for s in shop_list],
        "drugs": [s.drugs for s in shop_list],
        "drop_accounts": [sorted({d.account_id for d in s.drops}) for s in shop_list],
        "drop_cards": [sorted({d.card for d in s.drops if d.card}) for s in shop_list],
        "drop_phones": [sorted({d.phone for d in s.drops if d.phone}) for s in shop_list],
        "collector_accounts": [s.collectors for s in shop_list],
        "exchanger_accounts": [s.exchangers for s in shop_list],
        "cash_out_accounts": [s.cash_out for s in shop_list],
        "foreign_accounts": [s.foreign for s in shop_list],
        "wallets": [[w.account_id for w in s.wallets] for s in shop_list],
        "first_seen": pa.array([naive(first.get(s.shop_id)) for s in shop_list], pa.timestamp("us")),
        "last_seen": pa.array([naive(last.get(s.shop_id)) for s in shop_list], pa.timestamp("us")),
        "n_ads": [n_ads[s.shop_id] for s in shop_list],
        "n_drug_payments": [drug_stats.get(s.shop_id, (0, 0.0))[0] for s in shop_list],
        "drug_volume_kzt": [drug_stats.get(s.shop_id, (0, 0.0))[1] for s in shop_list],
    })
    pq.write_table(t, out / "truth" / "channels.parquet", compression="zstd", store_schema=False)


def _write_drop_spells(out: Path, shop_list) -> None:
    rows = [(s.shop_id, d.account_id, d.card, d.phone, d.start.astimezone(UTC).replace(tzinfo=None),
             d.end.astimezone(UTC).replace(tzinfo=None)) for s in shop_list for d in s.drops]
    cols = list(zip(*rows)) if rows else [[]] * 6
    t = pa.table({
        "channel_id": pa.array(cols[0], pa.string()), "account_id": pa.array(cols[1], pa.string()),
        "card": pa.array(cols[2], pa.string()), "phone": pa.array(cols[3], pa.string()),
        "start": pa.array(cols[4], pa.timestamp("us")), "end": pa.array(cols[5], pa.timestamp("us")),
    })
    pq.write_table(t, out / "truth" / "drop_spells.parquet", compression="zstd", store_schema=False)


def _csv_copy(path: Path) -> None:
    f = pq.ParquetFile(path)
    with pacsv.CSVWriter(path.with_suffix(".csv"), _csv_schema(f.schema_arrow)) as w:
        for b in f.iter_batches(batch_size=500_000):
            w.write_batch(_csv_batch(b))


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_list(f.type) else f for f in schema])


def _csv_batch(b: pa.RecordBatch) -> pa.RecordBatch:
    # CSV has no lists: join them with "|"
    cols = []
    for col, f in zip(b.columns, b.schema):
        if pa.types.is_list(f.type):
            cols.append(pa.array(["|".join(v) if v is not None else None for v in col.to_pylist()], pa.string()))
        else:
            cols.append(col)
    return pa.RecordBatch.from_arrays(cols, schema=_csv_schema(b.schema))


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
