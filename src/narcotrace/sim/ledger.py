"""Writes transfers chunk by chunk (time order) to transfers.parquet and truth/transfers.parquet, carrying
each account's running balance so the opening balances can honour the overdraft rule."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from narcotrace.sim.flows import ACTIVITIES, CHANNELS, LEGS, PATTERNS, Flows
from narcotrace.sim.population import KZT_PER, AccountBook

TRANSFERS_SCHEMA = pa.schema([
    ("transfer_id", pa.string()), ("timestamp", pa.timestamp("us")), ("from_account", pa.string()),
    ("to_account", pa.string()), ("from_bank", pa.string()), ("to_bank", pa.string()), ("amount", pa.float64()),
    ("currency", pa.string()), ("amount_base", pa.float64()), ("channel", pa.string()),
    ("description", pa.string()), ("to_card", pa.string()), ("to_phone", pa.string()),
])
# Card and phone transfers carry what the payer typed (the receiving card number or phone), as bank
# records do; ingest turns them into the receiving account's card:/phone: identifiers.
TRUTH_TRANSFERS_SCHEMA = pa.schema([
    ("transfer_id", pa.string()), ("is_drug", pa.bool_()), ("is_laundering", pa.bool_()), ("activity", pa.string()),
    ("leg", pa.string()), ("pattern", pa.string()), ("pattern_id", pa.string()), ("channel_id", pa.string()),
    ("post_id", pa.string()),
])


def _dict_schema(schema: pa.Schema, names: set[str]) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in names else f
                      for f in schema])


def _ids(first: int, n: int) -> pa.Array:
    """t0000000001, ... made by Arrow compute (no Python string per row)."""
    seq = pa.array(np.arange(first, first + n, dtype=np.int64))
    return pc.binary_join_element_wise("t", pc.utf8_lpad(pc.cast(seq, pa.string()), 10, "0"), "")


class Ledger:
    """Time-ordered writer with running balances (KZT tiyn) per account."""

    # Columns stored dictionary-encoded in the file: they repeat a lot. Readers see plain strings.
    _DICT = {"from_account", "to_account", "from_bank", "to_bank", "currency", "channel", "description", "to_card",
             "to_phone"}
    _TDICT = {"activity", "leg", "pattern", "pattern_id", "channel_id", "post_id"}

    def __init__(self, out: Path, book: AccountBook, shop_ids: list[str], post_ids: list[str],
                 row_group: int = 1_000_000) -> None:
        n = len(book)
        self.n = n
        self.balance = np.zeros(n, dtype=np.int64)
        self.low = np.zeros(n, dtype=np.int64)  # lowest running balance relative to the opening
        self.count_in = np.zeros(n, dtype=np.int64)
        self.count_out = np.zeros(n, dtype=np.int64)
        self.written = 0
        self.acc_ids = pa.array(book.account_id, pa.string())
        banks = sorted(set(book.bank))
        self.bank_names = pa.array(banks, pa.string())
        self.acc_bank = np.array([banks.index(b) for b in book.bank], dtype=np.int32)
        ccys = sorted(set(book.currency) | {"USD"})
        self.ccy_names = pa.array(ccys, pa.string())
        self.acc_ccy = np.array([ccys.index(c) for c in book.currency], dtype=np.int32)
        self.ccy_rate = np.array([KZT_PER[c] for c in ccys])
        self.ccy_decimals = np.array([8 if c in ("BTC", "ETH") else 2 for c in ccys])
        self.usd = ccys.index("USD")
        self.swift = CHANNELS.index("swift")
        self.kind_foreign = np.array([k == "foreign" for k in book.kind])
        self.card_values = pa.array([c or "" for c in book.card], pa.string())
        self.phone_values = pa.array([p or "" for p in book.phone], pa.string())
        self.no_card = np.array([c is None for c in book.card])
        self.no_phone = np.array([p is None for p in book.phone])
        self.card_p2p, self.phone_p2p = CHANNELS.index("card_p2p"), CHANNELS.index("phone_p2p")
        self.channels = pa.array(CHANNELS, pa.string())
        self.activities = pa.array(ACTIVITIES, pa.string())
        self.legs = pa.array(LEGS, pa.string())  # "" = none; masked as null
        self.patterns = pa.array(PATTERNS, pa.string())
        self.shop_ids = pa.array(shop_ids or [""], pa.string())
        self.post_ids = pa.array(post_ids or [""], pa.string())
        self.writer = pq.ParquetWriter(out / "transfers.parquet", _dict_schema(TRANSFERS_SCHEMA, self._DICT),
                                       compression="zstd", store_schema=False)
        self.truth = pq.ParquetWriter(out / "truth" / "transfers.parquet",
                                      _dict_schema(TRUTH_TRANSFERS_SCHEMA, self._TDICT), compression="zstd",
                                      store_schema=False)
        self.row_group = row_group
        self.max_pattern_id = 0
        # Parquet encoding and compression release the GIL: one background thread writes a chunk while
        # the next is generated (at most one chunk in flight, so memory stays bounded).
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: Future | None = None

    @staticmethod
    def _dict(idx: np.ndarray, values: pa.Array, null: np.ndarray | None = None) -> pa.DictionaryArray:
        indices = pa.array(idx.astype(np.int32), mask=null) if null is not None else pa.array(idx.astype(np.int32))
        return pa.DictionaryArray.from_arrays(indices, values)

    def write(self, f: Flows, descriptions: list[str | None]) -> None:
        """Append a batch whose timestamps are not earlier than anything written before."""
        if not len(f):
            return
        order = np.argsort(f.ts, kind="stable")
        f = f.take(order)
        n = len(f)
        self._balances(f)
        # the transfer's currency is the paying account's; money sent abroad by SWIFT goes in USD
        ccy = self.acc_ccy[f.src]
        ccy = np.where((f.chan == self.swift) & ~self.kind_foreign[f.src], self.usd, ccy)
        base = f.amt / 100.0
        scale = 10.0 ** self.ccy_decimals[ccy]
        amount = np.round(base / self.ccy_rate[ccy] * scale) / scale
        tid = _ids(self.written + 1, n)
        desc_values = pa.array([d or "" for d in descriptions], pa.string())
        batch = pa.RecordBatch.from_arrays([
            tid,
            pa.array(f.ts * 1_000_000, pa.timestamp("us")),
            self._dict(f.src, self.acc_ids), self._dict(f.dst, self.acc_ids),
            self._dict(self.acc_bank[f.src], self.bank_names), self._dict(self.acc_bank[f.dst], self.bank_names),
            pa.array(amount, pa.float64()), self._dict(ccy, self.ccy_names), pa.array(base, pa.float64()),
            self._dict(f.chan, self.channels), self._dict(f.desc, desc_values, f.desc == 0),
            self._dict(f.dst, self.card_values, (f.chan != self.card_p2p) | self.no_card[f.dst]),
            self._dict(f.dst, self.phone_values, (f.chan != self.phone_p2p) | self.no_phone[f.dst]),
        ], schema=self.writer.schema)
        self.max_pattern_id = max(self.max_pattern_id, int(f.pattern_id.max(initial=0)))
        pat_ids = pa.array([""] + [f"lp-{i:05d}" for i in range(1, self.max_pattern_id + 1)], pa.string())
        truth = pa.RecordBatch.from_arrays([
            tid, pa.array(f.act == ACTIVITIES.index("drug")), pa.array(f.act == ACTIVITIES.index("laundering")),
            self._dict(f.act, self.activities), self._dict(f.leg, self.legs, f.leg == 0),
            self._dict(f.pattern, self.patterns, f.pattern == 0),
            self._dict(np.maximum(f.pattern_id, 0), pat_ids, f.pattern_id < 0),
            self._dict(np.maximum(f.shop, 0), self.shop_ids, f.shop < 0),
            self._dict(np.maximum(f.post, 0), self.post_ids, f.post < 0),
        ], schema=self.truth.schema)
        self._wait()
        self._pending = self._pool.submit(self._write_both, batch, truth)
        self.written += n

    def _write_both(self, batch: pa.RecordBatch, truth: pa.RecordBatch) -> None:
        self.writer.write_batch(batch, row_group_size=self.row_group)
        self.truth.write_batch(truth, row_group_size=self.row_group)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()  # re-raises a write error here
            self._pending = None

    def _balances(self, f: Flows) -> None:
        # Debit and credit entries in transfer order, grouped by account (stable sort keeps the order);
        # running sums per account give the lowest balance each account reaches.
        n = len(f)
        acc = np.empty(2 * n, dtype=np.int64)
        val = np.empty(2 * n, dtype=np.int64)
        acc[0::2], acc[1::2] = f.src, f.dst
        val[0::2], val[1::2] = -f.amt, f.amt
        order = np.argsort(acc, kind="stable")
        a, v = acc[order], val[order]
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        cs = np.cumsum(v)
        group_base = np.repeat(cs[starts] - v[starts], np.diff(np.r_[starts, len(a)]))
        running = self.balance[a] + (cs - group_base)
        ga = a[starts]
        self.low[ga] = np.minimum(self.low[ga], np.minimum.reduceat(running, starts))
        self.balance[ga] = running[np.r_[starts[1:], len(a)] - 1]
        self.count_in += np.bincount(f.dst, minlength=self.n)
        self.count_out += np.bincount(f.src, minlength=self.n)

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown()
            self.writer.close()
            self.truth.close()
