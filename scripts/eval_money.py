"""Evaluate money scoring on held-out simulated worlds (seeds and sizes never used in training).

    .venv/bin/python scripts/eval_money.py [--world DIR ...] [--model DIR] [--json OUT]

Without --world it simulates three worlds with other seeds and parameters than the shipped model's
training worlds (its card lists those). For each world: ingest, `analyze` with the model and with
--rules-only, then precision / recall / F1 at the alert threshold (the model card's, or the rules' 0.5)
and precision@k against the simulator's truth, for any suspect, drops, collectors, cash-out and
laundering accounts. The report seeds below must never be used to train or tune a model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HELD_OUT = [  # seed, people, days, shops: none of these seeds or sizes trained the shipped model
    (201, 4000, 21, None),
    (202, 9000, 35, 6),
    (203, 15000, 28, None),
]
SUSPECT = {"drop", "collector", "cash_out", "laundering"}
EXCLUDED = {"shop_wallet", "shop_foreign"}


def metrics(scored: pd.DataFrame, target: str | None, threshold: float) -> dict:
    """target None: any suspect role; else that role (predicted role must match)."""
    truth = scored["true_role"].isin(SUSPECT) if target is None else scored["true_role"] == target
    flagged = scored["score"] >= threshold
    if target is not None:
        flagged &= scored["role"] == target
    tp = int((flagged & truth).sum())
    p = tp / flagged.sum() if flagged.sum() else 0.0
    r = tp / truth.sum() if truth.sum() else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    ranked = scored.assign(rank_score=np.where(scored["role"] == target, scored["score"], -1.0)
                           if target is not None else scored["score"]).sort_values("rank_score", ascending=False)
    n_true = int(truth.sum())
    out = {"positives": n_true, "flagged": int(flagged.sum()), "precision": p, "recall": r, "f1": f1}
    for k in (10, 50):
        top = ranked.head(k)
        out[f"p@{k}"] = float(truth.loc[top.index].mean()) if len(top) else 0.0
    if n_true:
        out["r_precision"] = float(truth.loc[ranked.head(n_true).index].mean())
    return out


def evaluate_world(world: Path, model: str | None) -> dict:
    from narcotrace.money.analyze import analyze
    from narcotrace.money.ingest import ingest_accounts, ingest_paths
    from narcotrace.workspace import Workspace

    truth = pd.read_parquet(world / "truth" / "accounts.parquet", columns=["account_id", "role"])
    truth = truth.rename(columns={"role": "true_role"})
    tmp = Path(tempfile.mkdtemp(prefix="nt-eval-"))
    res = {"world": str(world)}
    try:
        with Workspace.open(tmp / "ws") as ws:
            ingest_accounts(ws, [world / "accounts.parquet"])
            ingest_paths(ws, [world / "transfers.parquet"])
            res["transfers"] = ws.count("transfers")
            for mode in ("model", "rules"):
                t0 = time.perf_counter()
                rep = analyze(ws, rules_only=mode == "rules", model_path=model)
                scored = ws.con.execute("SELECT account_id, score, role FROM account_scores").df()
                scored = scored.merge(truth, on="account_id", how="left").fillna({"true_role": "normal"})
                scored = scored[~scored["true_role"].isin(EXCLUDED)].reset_index(drop=True)
                res[mode] = {"version": rep.model_version, "seconds": round(time.perf_counter() - t0, 1),
                             "accounts": len(scored), "alerts": rep.alerts_created, "min_score": rep.min_score,
                             "any_suspect": metrics(scored, None, rep.min_score)}
                for role in ("drop", "collector", "cash_out", "laundering"):
                    res[mode][role] = metrics(scored, role, rep.min_score)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def table(results: list[dict]) -> str:
    lines = ["| world | transfers | scorer (threshold) | target | positives | flagged | precision | recall | F1 | P@10 | P@50 | R-precision |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for mode in ("model", "rules"):
            for target in ("any_suspect", "drop", "collector", "cash_out", "laundering"):
                m = r[mode][target]
                lines.append(f"| {Path(r['world']).name} | {r['transfers']:,} | {r[mode]['version']} ({r[mode]['min_score']:.2f}) | {target} | "
                             f"{m['positives']} | {m['flagged']} | {m['precision']:.2f} | {m['recall']:.2f} | "
                             f"{m['f1']:.2f} | {m['p@10']:.2f} | {m['p@50']:.2f} | {m.get('r_precision', 0):.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, action="append", help="evaluate this simulated world (repeatable)")
    ap.add_argument("--model", default=None, help="model file or folder (default: the shipped model)")
    ap.add_argument("--out-dir", type=Path, default=Path(tempfile.gettempdir()) / "narcotrace-eval-worlds")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    worlds = args.world or []
    if not worlds:
        from narcotrace.sim.world import simulate

        for seed, people, days, shops in HELD_OUT:
            w = args.out_dir / f"heldout-{seed}-{people}p-{days}d"
            if not (w / "truth" / "accounts.parquet").is_file():
                simulate(w, seed=seed, people=people, days=days, shops=shops)
            worlds.append(w)
    results = [evaluate_world(w, args.model) for w in worlds]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
