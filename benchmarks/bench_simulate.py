"""Time and peak memory of `narcotrace simulate` at a size that reaches a target number of transfers.

    .venv/bin/python benchmarks/bench_simulate.py                 # full size: ~10 million transfers
    .venv/bin/python benchmarks/bench_simulate.py --target 2e6    # reduced size, extrapolated to 10 M

Runs the real command in a subprocess, measures wall time and the child's peak RSS
(resource.getrusage(RUSAGE_CHILDREN).ru_maxrss), counts the transfers written and prints the figures;
with --target below 10 M it also prints a linear extrapolation to 10 M (generation is chunked, so time
grows linearly in transfers and memory with the number of people, not of transfers).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# Transfers per person per day in the simulated world (measured: 1.96 at 20k and 100k people, 30 days).
PER_PERSON_DAY = 1.96
GOAL = 10_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=GOAL, help="transfers to aim for (default 10 M)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the world here and keep it")
    args = ap.parse_args()

    people = max(50, round(args.target / (PER_PERSON_DAY * args.days)))
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-sim-")) / "world"
    exe = Path(sys.executable).with_name("narcotrace")
    cmd = [str(exe), "simulate", "--out", str(out), "--seed", str(args.seed), "--people", str(people),
           "--days", str(args.days)]
    print("running:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_gib = ru.ru_maxrss / 1024**2
    cpu = ru.ru_utime + ru.ru_stime
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{out / 'transfers.parquet'}')").fetchone()[0]
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1024**2
    print(f"people {people:,}  days {args.days}  transfers {n:,}")
    print(f"wall time {wall:.1f} s  ({n / wall / 1e6:.2f} M transfers/s); CPU time {cpu:.1f} s (user+sys; "
          f"close to wall time on an idle 2-core machine: one main thread plus one Parquet writer thread)")
    print(f"peak RSS {peak_gib:.2f} GiB")
    print(f"output {size:,.0f} MiB")
    if n < GOAL * 0.95:
        print(f"extrapolated to {GOAL / 1e6:.0f} M transfers (linear in transfers, an upper bound: posts are "
              f"capped): wall ~{wall * GOAL / n:.0f} s, CPU ~{cpu * GOAL / n:.0f} s, peak RSS ~{peak_gib * GOAL / n:.2f} GiB")
    if args.keep is None:
        shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
