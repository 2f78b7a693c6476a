"""Time and peak memory of money ingest + account features, on a simulated world or a synthetic Parquet.

    .venv/bin/python benchmarks/bench_money_ingest.py --transfers 1000000          # synthetic (numpy)
    .venv/bin/python benchmarks/bench_money_ingest.py --world /tmp/world            # narcotrace simulate output
    .venv/bin/python benchmarks/bench_money_ingest.py --transfers 200000 --spark    # features on Spark too

Prints one line per step: seconds, rows, peak resident memory of this process (DuckDB runs in-process,
so this includes it; Spark's JVM is a separate process and is measured separately).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq


class PeakRSS:
    """Samples this process's (and its children's) resident memory every 50 ms."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for c in self.proc.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = self._rss()

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def cpu() -> float:
    """CPU seconds (user + sys) of this process so far: on a shared machine, closer to quiet wall time."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


def synthetic_transfers(path: Path, n: int, seed: int = 1) -> None:
    """n transfers among n/10 accounts over 30 days, KZT mostly, in the canonical (simulate) columns."""
    rng = np.random.default_rng(seed)
    n_acc = max(n // 10, 100)
    acc = np.array([f"acc-{i:08d}" for i in range(n_acc)], dtype=object)
    # skewed activity: a few busy accounts (merchants, drops), most quiet
    w = rng.pareto(1.5, n_acc) + 1
    w /= w.sum()
    src = rng.choice(n_acc, n, p=w)
    dst = rng.choice(n_acc, n, p=w)
    dst = np.where(dst == src, (dst + 1) % n_acc, dst)
    t0 = np.datetime64("2025-03-01T00:00:00", "us")
    ts = t0 + rng.integers(0, 30 * 24 * 3600, n).astype("timedelta64[s]").astype("timedelta64[us]")
    amount = np.where(rng.random(n) < 0.3, rng.integers(4, 60, n) * 500.0, rng.lognormal(9, 1.2, n).round(2))
    cur = rng.choice(np.array(["KZT", "USD", "RUB", "USDT"], dtype=object), n, p=[0.93, 0.03, 0.03, 0.01])
    chan = rng.choice(np.array(["card_p2p", "phone_p2p", "merchant_pos", "crypto_transfer", "atm_withdrawal"],
                               dtype=object), n, p=[0.35, 0.25, 0.3, 0.05, 0.05])
    banks = np.array(["kaspi", "halyk", "forte", "bcc", "jusan"], dtype=object)
    table = pa.table({
        "transfer_id": pa.array([f"t{i:09d}" for i in range(n)]),
        "timestamp": pa.array(ts),
        "from_account": pa.array(acc[src]), "to_account": pa.array(acc[dst]),
        "from_bank": pa.array(banks[src % 5]), "to_bank": pa.array(banks[dst % 5]),
        "amount": pa.array(amount), "currency": pa.array(cur), "channel": pa.array(chan),
        "description": pa.nulls(n, pa.string()),
    })
    pq.write_table(table, path, compression="zstd")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transfers", type=int, default=1_000_000, help="synthetic transfers to generate")
    ap.add_argument("--world", type=Path, help="a `narcotrace simulate` folder instead of synthetic data")
    ap.add_argument("--spark", action="store_true", help="also run the features on Spark (local[2])")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (the target machine has 2 cores)")
    args = ap.parse_args()

    from narcotrace.money.engine import DuckDBEngine, SparkEngine
    from narcotrace.money.features import account_features
    from narcotrace.money.ingest import ingest_paths
    from narcotrace.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="bench-money-"))
    if args.world:
        files = [args.world / "accounts.parquet", args.world / "transfers.parquet"]
        label = f"world {args.world}"
    else:
        files = [tmp / "transfers.parquet"]
        t = time.perf_counter()
        synthetic_transfers(files[0], args.transfers)
        label = f"synthetic {args.transfers:,} transfers (generated in {time.perf_counter() - t:.1f} s)"
    print(f"# {label}; DuckDB threads={args.threads}; cpu count={os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    ws = Workspace.open(tmp / "ws")
    ws.con.execute(f"SET threads = {args.threads}")
    with PeakRSS() as mem:
        mem.reset()
        t, c = time.perf_counter(), cpu()
        report = ingest_paths(ws, files)
        dt, dc = time.perf_counter() - t, cpu() - c
        n = ws.count("transfers")
        print(f"ingest      {dt:7.1f} s wall {dc:6.1f} s CPU  read {report.read:,} stored {n:,} quarantined {report.quarantined:,}"
              f"  {n / dt:,.0f} transfers/s  peak RSS {mem.peak / 2**30:.2f} GiB")
        mem.reset()
        t, c = time.perf_counter(), cpu()
        eng = DuckDBEngine(ws)
        k = eng.write("account_features", account_features(eng.table("transfers"), eng.table("accounts")))
        dt, dc = time.perf_counter() - t, cpu() - c
        print(f"features    {dt:7.1f} s wall {dc:6.1f} s CPU  {k:,} accounts (DuckDB)  peak RSS {mem.peak / 2**30:.2f} GiB")
        if args.spark:
            t = time.perf_counter()
            with SparkEngine(ws) as sp:
                start = time.perf_counter() - t
                t = time.perf_counter()
                k = sp.write("account_features_spark", account_features(sp.table("transfers"), sp.table("accounts")))
                dt = time.perf_counter() - t
            print(f"features    {dt:7.1f} s  {k:,} accounts (Spark local[2], +{start:.0f} s session start; "
                  f"includes Parquet export/import)  peak RSS incl. JVM {mem.peak / 2**30:.2f} GiB")
    db = ws.db_path.stat().st_size
    print(f"workspace   {db / 2**20:,.0f} MiB on disk")
    ws.close()


if __name__ == "__main__":
    main()
