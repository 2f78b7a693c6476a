"""Money pipeline speed and memory: ingest + features + typologies + scoring, 6-hop traces, and a
pandas + networkx baseline for the same kind of account features.

    .venv/bin/python benchmarks/bench_money.py --transfers 5000000 [--baseline-transfers 1000000]
    .venv/bin/python benchmarks/bench_money.py --transfers 500000 --baseline-transfers 200000   # quick

Simulates a world of about --transfers transfers (people = transfers / (1.9 * days)), then times each
stage in this process; peak memory is the highest resident set size of this process sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from peak_rss import PeakRSS  # benchmarks/peak_rss.py (scripts run from this folder)


def pandas_networkx_features(df: pd.DataFrame) -> pd.DataFrame:
    """The straightforward way: networkx for degrees/counterparties, pandas groupbys for the rest."""
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_edges_from(zip(df.from_account, df.to_account))
    simple = nx.DiGraph(g)
    nodes = list(g.nodes)
    out = pd.DataFrame(index=pd.Index(nodes, name="account_id"))
    out["in_count"] = pd.Series(dict(g.in_degree()))
    out["out_count"] = pd.Series(dict(g.out_degree()))
    out["in_degree"] = pd.Series(dict(simple.in_degree()))
    out["out_degree"] = pd.Series(dict(simple.out_degree()))
    amt = df.amount_base.fillna(df.amount)
    df = df.assign(amt=amt, hour=df.timestamp.dt.floor("h"), day=df.timestamp.dt.floor("D"),
                   week=df.timestamp.dt.to_period("W"))
    inc = df.groupby("to_account").amt
    outg = df.groupby("from_account").amt
    for name, gb in (("in", inc), ("out", outg)):
        out[f"{name}_sum"] = gb.sum()
        out[f"{name}_mean"] = gb.mean()
        out[f"{name}_median"] = gb.median()
        out[f"{name}_max"] = gb.max()
    for w in ("hour", "day", "week"):
        out[f"in_max_{w}"] = df.groupby(["to_account", w]).size().groupby(level=0).max()
    out["in_max_sum_24h"] = df.groupby(["to_account", "day"]).amt.sum().groupby(level=0).max()
    out["out_max_24h"] = df.groupby(["from_account", "day"]).size().groupby(level=0).max()
    out["pass_through"] = out.out_sum / out.in_sum
    # dwell: each outgoing transfer against the latest earlier incoming one of the same account
    ins = df[["to_account", "timestamp"]].rename(columns={"to_account": "acct", "timestamp": "t_in"}).sort_values("t_in")
    outs = df[["from_account", "timestamp"]].rename(columns={"from_account": "acct", "timestamp": "t_out"}).sort_values("t_out")
    m = pd.merge_asof(outs, ins, left_on="t_out", right_on="t_in", by="acct", direction="backward")
    m["dwell_h"] = (m.t_out - m.t_in).dt.total_seconds() / 3600
    out["dwell_median_h"] = m.groupby("acct").dwell_h.median()
    out["fast_out_share"] = m.assign(f=m.dwell_h <= 24).groupby("acct").f.mean()
    local_hour = (df.timestamp + pd.Timedelta(hours=5)).dt.hour
    both = pd.concat([pd.DataFrame({"acct": df.from_account, "night": local_hour < 6}),
                      pd.DataFrame({"acct": df.to_account, "night": local_hour < 6})])
    out["night_share"] = both.groupby("acct").night.mean()
    out["in_round_share"] = (df.assign(r=(df.amt % 10000) == 0).groupby("to_account").r.mean())
    small = df[df.amt <= 30000]
    out["small_payers"] = small.groupby("to_account").from_account.nunique()
    out["small_payers_max_day"] = small.groupby(["to_account", "day"]).from_account.nunique().groupby(level=0).max()
    out["first_seen"] = pd.concat([df.groupby("from_account").timestamp.min(), df.groupby("to_account").timestamp.min()]).groupby(level=0).min()
    out["last_seen"] = pd.concat([df.groupby("from_account").timestamp.max(), df.groupby("to_account").timestamp.max()]).groupby(level=0).max()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transfers", type=int, default=5_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--baseline-transfers", type=int, default=1_000_000)
    ap.add_argument("--traces", type=int, default=20)
    ap.add_argument("--rules-only", action="store_true", help="score without the shipped model")
    ap.add_argument("--keep", type=Path, help="keep the world and workspace in this folder")
    args = ap.parse_args()

    from narcotrace.money import trace as tr
    from narcotrace.money.analyze import analyze
    from narcotrace.money.engine import open_engine
    from narcotrace.money.features import account_features
    from narcotrace.money.ingest import ingest_accounts, ingest_paths
    from narcotrace.sim.world import simulate
    from narcotrace.workspace import Workspace

    root = args.keep or Path(tempfile.mkdtemp(prefix="nt-bench-"))
    world = root / "world"
    people = max(200, int(args.transfers / (1.9 * args.days)))
    t0 = time.perf_counter()
    if not (world / "transfers.parquet").is_file():
        simulate(world, seed=9001, people=people, days=args.days)
    print(f"world: {people:,} people, {args.days} days, simulated in {time.perf_counter() - t0:.1f} s")
    figures: dict[str, float] = {}
    if (root / "ws").exists():
        shutil.rmtree(root / "ws")
    with PeakRSS() as mem, Workspace.open(root / "ws") as ws:
        t = t_pipeline = time.perf_counter()
        ingest_accounts(ws, [world / "accounts.parquet"])
        ingest_paths(ws, [world / "transfers.parquet"])
        figures["ingest_s"] = time.perf_counter() - t
        n = ws.count("transfers")
        rep = analyze(ws, rules_only=args.rules_only)
        figures.update({f"{k}_s": v for k, v in rep.timings.items()})
        pipeline_peak = mem.peak
        stage_peaks = {}  # where the memory goes: peak RSS inside each stage's window
        t_end = t_pipeline + figures["ingest_s"]
        stage_peaks["ingest"] = mem.peak_between(t_pipeline, t_end)
        for k, v in rep.timings.items():
            stage_peaks[k] = mem.peak_between(t_end, t_end + v)
            t_end += v
        figures["pipeline_s"] = figures["ingest_s"] + sum(rep.timings.values())

        # 6-hop traces from alerted accounts and from random accounts
        rng = np.random.default_rng(1)
        alerted = [r[0] for r in ws.con.execute("SELECT account_id FROM alerts ORDER BY score DESC LIMIT ?",
                                                 [args.traces // 2]).fetchall()]
        busy = [r[0] for r in ws.con.execute(
            "SELECT from_account FROM transfers USING SAMPLE 2000 ROWS").fetchall()]
        starts = alerted + list(rng.choice(busy, size=args.traces - len(alerted), replace=False))
        times = []
        for acct in starts:
            for backward in (False, True):
                t = time.perf_counter()
                tr.trace(ws, acct, hops=6, backward=backward)
                times.append(time.perf_counter() - t)
        figures["trace6_median_s"] = float(np.median(times))
        figures["trace6_p95_s"] = float(np.percentile(times, 95))
        figures["trace6_max_s"] = float(np.max(times))

        # same kind of features: Ibis on DuckDB vs pandas + networkx, on the first M transfers
        m = min(args.baseline_transfers, n)
        ws.con.execute(f"CREATE OR REPLACE TABLE bench_sample AS SELECT * FROM transfers ORDER BY timestamp LIMIT {m}")
        with open_engine(ws, "duckdb") as eng:
            t = time.perf_counter()
            eng.execute(account_features(eng.table("bench_sample"), eng.table("accounts")))
            figures["features_duckdb_sample_s"] = time.perf_counter() - t
        sample = ws.con.execute("SELECT * FROM bench_sample").df()
    t = time.perf_counter()
    pandas_networkx_features(sample)
    figures["features_pandas_networkx_sample_s"] = time.perf_counter() - t

    print(f"transfers: {n:,}  model: {rep.model_version}  alerts: {rep.alerts_created:,}  hits: {rep.total_hits:,}")
    for k, v in figures.items():
        print(f"  {k:<36} {v:9.3f}")
    print(f"  {'peak_rss_pipeline_gib':<36} {pipeline_peak / 2**30:9.3f}")
    print(f"  {'peak_rss_all_gib':<36} {mem.peak / 2**30:9.3f}")
    for k, v in stage_peaks.items():
        print(f"  {'peak_rss_' + k.replace(' ', '_') + '_gib':<36} {v / 2**30:9.3f}")
    ratio = figures["features_pandas_networkx_sample_s"] / figures["features_duckdb_sample_s"]
    print(f"  pandas+networkx / DuckDB features on {m:,} transfers: {ratio:.1f}x")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
