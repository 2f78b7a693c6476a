"""Writes the simulated world's account and truth tables (accounts, truth/accounts, truth/channels,
truth/drop_spells) and the CSV copies; transfers are written by ledger.py as they are made."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def write_accounts(out: Path, book, opening_kzt: np.ndarray) -> None:
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


def write_truth_accounts(out: Path, book, shop_list, members, buyers, pop) -> Counter:
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


def drug_stats(out: Path) -> dict[str, tuple[int, float]]:
    import duckdb

    con = duckdb.connect()
    rows = con.execute(f"""
        SELECT t.channel_id, count(*), sum(x.amount_base)
        FROM read_parquet('{out / 'truth' / 'transfers.parquet'}') t
        JOIN read_parquet('{out / 'transfers.parquet'}') x USING (transfer_id)
        WHERE t.leg IN ('buyer_to_drop', 'buyer_to_wallet') GROUP BY 1""").fetchall()
    con.close()
    return {r[0]: (int(r[1]), float(r[2])) for r in rows}


def write_channels(out: Path, shop_list, ads, drug_stats) -> None:
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


def write_drop_spells(out: Path, shop_list) -> None:
    rows = [(s.shop_id, d.account_id, d.card, d.phone, d.start.astimezone(UTC).replace(tzinfo=None),
             d.end.astimezone(UTC).replace(tzinfo=None)) for s in shop_list for d in s.drops]
    cols = list(zip(*rows)) if rows else [[]] * 6
    t = pa.table({
        "channel_id": pa.array(cols[0], pa.string()), "account_id": pa.array(cols[1], pa.string()),
        "card": pa.array(cols[2], pa.string()), "phone": pa.array(cols[3], pa.string()),
        "start": pa.array(cols[4], pa.timestamp("us")), "end": pa.array(cols[5], pa.timestamp("us")),
    })
    pq.write_table(t, out / "truth" / "drop_spells.parquet", compression="zstd", store_schema=False)


def csv_copy(path: Path) -> None:
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
