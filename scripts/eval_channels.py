"""Evaluate `narcotrace channels` on simulated worlds against the simulator's truth.

Runs simulate -> ingest -> scan -> analyze -> channels for each world, then scores:
- shop clustering: pairwise precision/recall/F1 over the true sale posts (same predicted channel vs same shop);
- drop and collector accounts per channel: micro precision/recall over (true shop, account) pairs, each
  predicted channel matched to the true shop that most of its sale posts belong to;
- money: drug money attributed to each channel vs the shop's true buyer payments (relative error).

    .venv/bin/python scripts/eval_channels.py --world 201:4000:28 --world 202:6000:21:5 [--oracle-posts]

A world is SEED:PEOPLE:DAYS[:SHOPS]. `--oracle-posts` fills posts and indicators from the truth instead of
running scan (separates the builder's errors from the classifier's). Tuning seeds (101-103) are declared in
docs/evaluation.md; report only on other seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
NT = str(ROOT / ".venv" / "bin" / "narcotrace")
CHANNEL_ARGS: list[str] = []  # --params FILE, when given


def run(*args: str) -> None:
    r = subprocess.run([NT, *args], capture_output=True, text=True, env={"NARCOTRACE_QUIET": "1", "PATH": "/usr/bin:/bin",
                                                                            "HOME": str(Path.home())})
    if r.returncode != 0:
        raise SystemExit(f"narcotrace {' '.join(args)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def oracle_posts(world: Path, ws: Path) -> None:
    """Posts and indicators from the truth: labels and indicators exactly as the simulator made them."""
    from narcotrace.workspace import Workspace

    with Workspace.open(ws) as w:
        w.con.execute(f"""INSERT INTO posts (post_id, channel, author, date, url, text, score, label)
            SELECT post_id, channel, author, date, url, plain_text, CASE WHEN label = 'none' THEN 0.05 ELSE 0.95 END,
                   label FROM read_parquet('{world}/truth/posts.parquet')""")
        w.con.execute(f"""INSERT INTO indicators (post_id, kind, value, canonical_id, chain)
            SELECT post_id, kind, value, canonical_id, chain FROM read_parquet('{world}/truth/indicators.parquet')""")


def build(world_spec: str, base: Path, oracle: bool, only_channels: bool = False, registry: bool = True
          ) -> tuple[Path, Path, dict[str, float]]:
    seed, people, days, *shops = world_spec.split(":")
    world, ws = base / f"world-{world_spec.replace(':', '-')}", base / f"ws-{world_spec.replace(':', '-')}"
    times = {}
    if only_channels and ws.exists():
        t = time.perf_counter()
        run("channels", "--workspace", str(ws), "--out", str(ws / "channels.json"), *CHANNEL_ARGS)
        return world, ws, {"channels": time.perf_counter() - t}
    t = time.perf_counter()
    run("simulate", "--out", str(world), "--seed", seed, "--people", people, "--days", days,
        *(["--shops", shops[0]] if shops else []))
    times["simulate"] = time.perf_counter() - t
    t = time.perf_counter()
    # with --no-registry only the transfers are read: accounts are known by their ids and by the cards
    # and phones payers typed (to_card, to_phone), as for an FIU without the banks' account registries
    run("ingest", str(world / "transfers.parquet"), *([str(world / "accounts.parquet")] if registry else []),
        "--workspace", str(ws))
    times["ingest"] = time.perf_counter() - t
    t = time.perf_counter()
    if oracle:
        oracle_posts(world, ws)
    else:
        run("scan", str(world / "posts.jsonl"), "--workspace", str(ws))
    times["scan"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        run("analyze", "--workspace", str(ws))
    except SystemExit:
        run("analyze", "--rules-only", "--workspace", str(ws))
    times["analyze"] = time.perf_counter() - t
    t = time.perf_counter()
    run("channels", "--workspace", str(ws), "--out", str(ws / "channels.json"), *CHANNEL_ARGS)
    times["channels"] = time.perf_counter() - t
    return world, ws, times


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(world: Path, ws: Path) -> dict:
    con = duckdb.connect()
    truth_posts = dict(con.execute(f"SELECT post_id, channel_id FROM read_parquet('{world}/truth/posts.parquet') "
                                   "WHERE label = 'sale'").fetchall())
    shops = {r[0]: r for r in con.execute(f"""
        SELECT channel_id, drop_accounts, collector_accounts, drug_volume_kzt, brand
        FROM read_parquet('{world}/truth/channels.parquet')""").fetchall()}
    # collectors that received the shop's money: the truth also lists collectors its drops never paid,
    # which leave no trace in the transfers
    active = set(con.execute(f"""
        SELECT DISTINCT t.channel_id, x.to_account FROM read_parquet('{world}/truth/transfers.parquet') t
        JOIN read_parquet('{world}/transfers.parquet') x USING (transfer_id)
        WHERE t.leg = 'drop_to_collector'""").fetchall())
    channels = json.loads((ws / "channels.json").read_text())["channels"]
    pred = {p: c["id"] for c in channels for p in c["post_ids"]}
    # pairwise clustering over the true sale posts
    tp = fp = fn = 0
    posts = sorted(truth_posts)
    for a, b in combinations(posts, 2):
        same_true = truth_posts[a] == truth_posts[b]
        same_pred = a in pred and pred.get(a) == pred.get(b)
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    cluster = prf(tp, fp, fn)
    # match channels to shops by their sale posts
    match: dict[str, str] = {}
    for c in channels:
        votes = Counter(truth_posts[p] for p in c["post_ids"] if p in truth_posts)
        if votes:
            match[c["id"]] = votes.most_common(1)[0][0]
    out = {"clustering": cluster, "channels": len(channels), "shops": len(shops), "sale_posts": len(posts),
           "sale_posts_in_channels": sum(p in pred for p in posts)}
    for role, col in (("drop", 1), ("collector", 2)):
        true_pairs = {(s, a) for s, r in shops.items() for a in r[col] if role == "drop" or (s, a) in active}
        pred_pairs = {(match[c["id"]], a["account_id"]) for c in channels if c["id"] in match
                      for a in c["accounts"] if a["role"] == role}
        out[role] = prf(len(true_pairs & pred_pairs), len(pred_pairs - true_pairs), len(true_pairs - pred_pairs))
        out[role + "_misses"] = sorted(true_pairs - pred_pairs)[:10]
        out[role + "_extra"] = sorted(pred_pairs - true_pairs)[:10]
    vol = defaultdict(float)
    for c in channels:
        if c["id"] in match:
            vol[match[c["id"]]] += c["volume"]
    money = []
    for s, r in sorted(shops.items()):
        true_v = r[3] or 0.0
        err = abs(vol[s] - true_v) / true_v if true_v else (0.0 if not vol[s] else 1.0)
        money.append((s, r[4], true_v, vol[s], err))
    out["money"] = money
    out["money_within_10pct"] = sum(m[4] <= 0.10 for m in money)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", action="append", required=True, help="SEED:PEOPLE:DAYS[:SHOPS]")
    ap.add_argument("--base", type=Path, default=Path("/tmp/narcotrace-eval-channels"))
    ap.add_argument("--oracle-posts", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--only-channels", action="store_true", help="reuse the workspaces in --base; rerun channels")
    ap.add_argument("--no-registry", action="store_true", help="ingest transfers only, not accounts.parquet")
    ap.add_argument("--params", type=Path, help="channels parameters YAML (tuning)")
    a = ap.parse_args()
    if a.params:
        CHANNEL_ARGS.extend(["--params", str(a.params)])
    a.base.mkdir(parents=True, exist_ok=True)
    results = []
    for spec in a.world:
        world, ws, times = build(spec, a.base, a.oracle_posts, a.only_channels, not a.no_registry)
        r = score(world, ws)
        r["world"], r["times"] = spec, {k: round(v, 1) for k, v in times.items()}
        results.append(r)
        c, d, k = r["clustering"], r["drop"], r["collector"]
        print(f"world {spec}: {r['channels']} channels for {r['shops']} shops; "
              f"sale posts in channels {r['sale_posts_in_channels']}/{r['sale_posts']}")
        print(f"  clustering pairwise P {c[0]:.3f} R {c[1]:.3f} F1 {c[2]:.3f}")
        print(f"  drops      P {d[0]:.3f} R {d[1]:.3f}   collectors P {k[0]:.3f} R {k[1]:.3f}")
        for s, brand, tv, pv, err in r["money"]:
            print(f"  money {s} {brand:20s} true {tv:>14,.0f} attributed {pv:>14,.0f} error {err:6.1%}")
        print(f"  money within 10 %: {r['money_within_10pct']}/{len(r['money'])}   times {r['times']}")
        for key in ("drop_misses", "drop_extra", "collector_misses", "collector_extra"):
            if r[key]:
                print(f"  {key}: {r[key]}")
        sys.stdout.flush()
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
