"""How long `narcotrace channels` takes, and how much memory, as the world grows.

For each size: simulate a world, ingest its transfers and accounts, load its posts and indicators from the
truth (so the figure is the channel builder's, not the classifier's), then time `build_channels` and record
the process's peak memory during it. Prints one line per size.

    .venv/bin/python benchmarks/bench_channels.py --people 5000 20000 --days 30
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil


def _peak_rss(stop: threading.Event, out: list[int]) -> None:
    proc = psutil.Process()
    peak = 0
    while not stop.is_set():
        peak = max(peak, proc.memory_info().rss)
        time.sleep(0.02)
    out.append(peak)


def bench(people: int, days: int, seed: int, base: Path) -> dict[str, float]:
    from narcotrace.channels.build import build_channels
    from narcotrace.money.ingest import ingest_paths
    from narcotrace.sim.world import simulate
    from narcotrace.workspace import Workspace

    world, wsdir = base / f"w{people}", base / f"ws{people}"
    simulate(world, seed=seed, people=people, days=days)
    with Workspace.open(wsdir) as ws:
        ingest_paths(ws, [world / "accounts.parquet", world / "transfers.parquet"])
        ws.con.execute(f"""INSERT INTO posts (post_id, channel, author, date, url, text, score, label)
            SELECT post_id, channel, author, date, url, plain_text, CASE WHEN label = 'none' THEN 0.05 ELSE 0.95 END,
                   label FROM read_parquet('{world}/truth/posts.parquet')""")
        ws.con.execute(f"""INSERT INTO indicators (post_id, kind, value, canonical_id, chain)
            SELECT post_id, kind, value, canonical_id, chain FROM read_parquet('{world}/truth/indicators.parquet')""")
        sizes = {t: ws.count(t) for t in ("transfers", "accounts", "posts", "indicators")}
        stop, peak = threading.Event(), []
        rss0 = psutil.Process().memory_info().rss
        watcher = threading.Thread(target=_peak_rss, args=(stop, peak))
        watcher.start()
        t0 = time.perf_counter()
        report = build_channels(ws)
        elapsed = time.perf_counter() - t0
        stop.set()
        watcher.join()
    return {**sizes, "channels": len(report.channels), "seconds": elapsed,
            "peak_rss_mib": peak[0] / 2**20, "rss_before_mib": rss0 / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=909)
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-channels-"))
    try:
        for people in a.people:
            r = bench(people, a.days, a.seed, base)
            print(f"people {people:>7,}  transfers {r['transfers']:>11,}  posts {r['posts']:>6,}  "
                  f"indicators {r['indicators']:>6,}  channels {r['channels']:>3}  "
                  f"build {r['seconds']:6.1f} s  peak RSS {r['peak_rss_mib']:,.0f} MiB "
                  f"(before {r['rss_before_mib']:,.0f} MiB)", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
