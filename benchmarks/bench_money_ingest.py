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
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from peak_rss import PeakRSS  # benchmarks/peak_rss.py (scripts run from this folder)


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


def pandas_features(tr, acc, p: dict):
    """The same account features written the straightforward way: pandas group-bys, merge_asof for dwell,
    networkx for the degrees (distinct counterparties). The baseline the Ibis version is compared with."""
    import networkx as nx
    import pandas as pd

    t = tr.rename(columns={"amount_base": "amount"})
    t["local"] = t["timestamp"] + pd.Timedelta(hours=int(p["local_utc_offset_hours"]))
    kinds = acc.set_index("account_id")
    to_kind = t["to_account"].map(kinds["kind"])
    to_country = t["to_account"].map(kinds["country"])
    from_kind = t["from_account"].map(kinds["kind"])
    crypto = t["channel"].fillna("").str.lower().str.startswith(p["crypto_channel_prefix"])
    t["to_exch"] = to_kind.isin(p["exchanger_kinds"]) | crypto
    t["from_exch"] = from_kind.isin(p["exchanger_kinds"]) | crypto
    t["to_abroad"] = to_kind.isin(p["foreign_kinds"]) | (to_country.notna() & (to_country != p["home_country"]))
    t["cash"] = t["channel"].fillna("").str.lower().isin(p["cash_channels"]) | to_kind.isin(p.get("cash_kinds", []))
    cents = (t["amount"] * 100).round().astype("int64")
    price = pd.Series(False, index=t.index)
    for b in p["price_bands"]:
        price |= t["amount"].between(b["min"], b["max"]) & (cents % int(b["step"] * 100) == 0)
    t["price"] = price
    t["round"] = cents % int(p["round_step"] * 100) == 0
    h = t["local"].dt.hour
    t["night"] = (h >= p["night_hours"][0]) & (h < p["night_hours"][1])

    g = nx.DiGraph()
    g.add_edges_from(zip(t["from_account"], t["to_account"]))
    f = pd.DataFrame(index=pd.Index(sorted(g.nodes), name="account_id"))
    f["in_degree"] = pd.Series(dict(g.in_degree()))
    f["out_degree"] = pd.Series(dict(g.out_degree()))
    t["amt_exch_from"] = t["amount"].where(t["from_exch"], 0.0)
    t["amt_exch_to"] = t["amount"].where(t["to_exch"], 0.0)
    t["amt_abroad"] = t["amount"].where(t["to_abroad"], 0.0)
    t["amt_cash"] = t["amount"].where(t["cash"], 0.0)
    gi = t.groupby("to_account")
    inc = gi["amount"].agg(in_count="count", in_sum="sum", in_mean="mean", in_median="median", in_max="max")
    inc["in_price_share"] = gi["price"].mean()
    inc["in_round_share"] = gi["round"].mean()
    inc["in_exchanger_share"] = gi["amt_exch_from"].sum() / inc["in_sum"]
    go = t.groupby("from_account")
    out = go["amount"].agg(out_count="count", out_sum="sum", out_mean="mean", out_median="median", out_max="max")
    out["out_round_share"] = go["round"].mean()
    out["out_exchanger_share"] = go["amt_exch_to"].sum() / out["out_sum"]
    out["out_abroad_share"] = go["amt_abroad"].sum() / out["out_sum"]
    out["out_cash_share"] = go["amt_cash"].sum() / out["out_sum"]
    f = f.join(inc).join(out)
    hour = t.groupby(["to_account", t["local"].dt.floor("h")]).size()
    f["in_max_1h"] = hour.groupby(level=0).max()
    day_in = t.groupby(["to_account", t["local"].dt.date])["amount"].agg(["size", "sum"])
    f["in_max_24h"] = day_in["size"].groupby(level=0).max()
    f["in_max_sum_24h"] = day_in["sum"].groupby(level=0).max()
    week = t.groupby(["to_account", t["local"].dt.to_period("W-SUN")]).size()
    f["in_max_7d"] = week.groupby(level=0).max()
    day_out = t.groupby(["from_account", t["local"].dt.date])["amount"].agg(["size", "sum"])
    f["out_max_24h"] = day_out["size"].groupby(level=0).max()
    f["out_max_sum_24h"] = day_out["sum"].groupby(level=0).max()
    # dwell: each outgoing transfer against the latest incoming one at or before it, per account
    ins = t[["to_account", "timestamp"]].rename(columns={"to_account": "account_id", "timestamp": "in_ts"})
    outs = t[["from_account", "timestamp"]].rename(columns={"from_account": "account_id"})
    m = pd.merge_asof(outs.sort_values("timestamp"), ins.sort_values("in_ts"), left_on="timestamp",
                      right_on="in_ts", by="account_id", direction="backward", allow_exact_matches=True)
    m = m.dropna(subset=["in_ts"])
    m["dwell_h"] = (m["timestamp"] - m["in_ts"]).dt.total_seconds() / 3600
    f["dwell_median_h"] = m.groupby("account_id")["dwell_h"].median()
    f["fast_out_n"] = (m["dwell_h"] <= p["fast_dwell_hours"]).groupby(m["account_id"]).sum()
    ev = pd.concat([t[["to_account", "timestamp", "local", "night"]].rename(columns={"to_account": "a"}),
                    t[["from_account", "timestamp", "local", "night"]].rename(columns={"from_account": "a"})])
    ge = ev.groupby("a")
    f["night_share"] = ge["night"].mean()
    f["first_seen"] = ge["timestamp"].min()
    f["last_seen"] = ge["timestamp"].max()
    f["active_days"] = ev.assign(d=ev["local"].dt.date).groupby("a")["d"].nunique()
    small = t[t["amount"] <= p["small_payment_max"]]
    f["small_payers"] = small.groupby("to_account")["from_account"].nunique()
    f["small_payers_max_day"] = small.groupby(["to_account", small["local"].dt.date])["from_account"].nunique() \
        .groupby(level=0).max()
    for c in ("in_count", "out_count", "in_sum", "out_sum", "small_payers", "small_payers_max_day"):
        f[c] = f[c].fillna(0)
    f["pass_through"] = (f["out_sum"] / f["in_sum"]).where(f["in_sum"] > 0)
    f["fast_out_share"] = (f["fast_out_n"].fillna(0) / f["out_count"]).where(f["out_count"] > 0)
    return f.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transfers", type=int, default=1_000_000, help="synthetic transfers to generate")
    ap.add_argument("--world", type=Path, help="a `narcotrace simulate` folder instead of synthetic data")
    ap.add_argument("--spark", action="store_true", help="also run the features on Spark (local[2])")
    ap.add_argument("--pandas", action="store_true", help="also time a pandas + networkx version of the features")
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
        if args.pandas:
            import pandas as pd

            from narcotrace.money.features import load_params

            tr = ws.con.execute("SELECT transfer_id, timestamp, from_account, to_account, amount_base, channel "
                                "FROM transfers").df()
            acc = ws.con.execute("SELECT account_id, kind, country FROM accounts").df()
            mem.reset()
            t, c = time.perf_counter(), cpu()
            pf = pandas_features(tr, acc, load_params())
            pdt, pdc = time.perf_counter() - t, cpu() - c
            duck = ws.con.execute("SELECT * FROM account_features").df().set_index("account_id")
            pf = pf.set_index("account_id").loc[duck.index]
            worst = max(float((pf[col].astype(float) - duck[col].astype(float)).abs().max())
                        for col in ("in_count", "in_degree", "out_degree", "in_sum", "in_median", "in_max_1h",
                                    "in_max_7d", "dwell_median_h", "night_share", "small_payers_max_day",
                                    "out_exchanger_share", "active_days"))
            print(f"features    {pdt:7.1f} s wall {pdc:6.1f} s CPU  {len(pf):,} accounts (pandas + networkx)  "
                  f"peak RSS {mem.peak / 2**30:.2f} GiB; {pdt / dt:.1f}x the DuckDB wall time, "
                  f"{pdc / dc:.1f}x its CPU; largest difference in 12 checked columns {worst:.2g}")
            del tr, acc, pf
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
