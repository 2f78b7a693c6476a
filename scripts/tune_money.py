"""Tune the money model's alert threshold, calibration check and role assignment on declared tuning worlds.

    .venv/bin/python scripts/tune_money.py --world DIR [--world DIR ...] [--model DIR] --dump OUT.parquet

Tuning worlds must be neither training worlds (seeds 101-103) nor report worlds (seeds 201-203, see
scripts/eval_money.py). For every account of each world it writes the model's calibrated and raw score,
role probabilities, the rules-only role and signs, and the simulator's true role, so threshold and role
policy can be chosen from these rows alone (`--choose` prints the choice and the reliability table).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SUSPECT = {"drop", "collector", "cash_out", "laundering"}
EXCLUDED = {"shop_wallet", "shop_foreign"}


def dump_world(world: Path, model_path: str | None) -> pd.DataFrame:
    from narcotrace.money import score as sm
    from narcotrace.money import typologies
    from narcotrace.money.engine import open_engine
    from narcotrace.money.ingest import ingest_accounts, ingest_paths
    from narcotrace.workspace import Workspace

    model = sm.load_model(model_path)
    truth = pd.read_parquet(world / "truth" / "accounts.parquet", columns=["account_id", "role"]).set_index("account_id")["role"]
    tmp = Path(tempfile.mkdtemp(prefix="nt-tune-"))
    try:
        with Workspace.open(tmp / "ws") as ws:
            ingest_accounts(ws, [world / "accounts.parquet"])
            ingest_paths(ws, [world / "transfers.parquet"])
            with open_engine(ws, "duckdb") as eng:
                t = eng.table("transfers")
                eng.write("typology_hits", typologies.detect_all(t, typologies.load_params()))
                hits = eng.table("typology_hits")
                X = sm.build_matrix(eng, t, eng.table("accounts"), hits)
                for c in model.base_columns:
                    if c not in X:
                        X[c] = np.nan
                s1 = model.first_stage(X)
                nb = sm.neighbour_columns(eng, t.select("from_account", "to_account"), s1, model.neighbour_hops)
            X2 = X.join(nb)
            out = model.final(X2)
            proba = model.role_model.predict_proba(X2[model.stage2_columns])
            for i, c in enumerate(model.role_classes):
                out[f"p_{c}"] = proba[:, i]
            rules = sm.rules_scores(X)
            out["rules_score"] = rules["score"]
            out["rules_role"] = rules["role"]
            for sign, frame in sm.rule_signs(X).items():
                out[f"sign_{sign}"] = frame.to_numpy()
            for k in ("exchanger", "wallet", "cash", "atm", "foreign"):
                out[f"kind_{k}"] = X[f"kind_{k}"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["true_role"] = truth.reindex(out.index).fillna("normal").to_numpy()
    out["world"] = world.name
    return out[~out["true_role"].isin(EXCLUDED)].rename_axis("account_id").reset_index()


def reliability(d: pd.DataFrame, col: str = "score") -> pd.DataFrame:
    y = d["true_role"].isin(SUSPECT)
    bins = pd.cut(d[col], [-0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0])
    return pd.DataFrame({"n": y.groupby(bins, observed=True).size(), "mean_score": d[col].groupby(bins, observed=True).mean(),
                         "suspect_rate": y.groupby(bins, observed=True).mean()})


def threshold_curve(d: pd.DataFrame, col: str = "score") -> pd.DataFrame:
    y = d["true_role"].isin(SUSPECT).to_numpy()
    rows = []
    for t in sorted(set(np.round(d[col], 4)) | {0.5}):
        if t <= 0:
            continue
        f = d[col].to_numpy() >= t
        tp = int((f & y).sum())
        p = tp / f.sum() if f.sum() else 0.0
        r = tp / y.sum()
        rows.append({"threshold": t, "flagged": int(f.sum()), "precision": p, "recall": r,
                     "f1": 2 * p * r / (p + r) if p + r else 0.0})
    return pd.DataFrame(rows)


ROLE_TARGETS = ["drop", "collector", "cash_out", "laundering"]
OVERRIDE_CHOICES = [[], ["collector"], ["cash_out"], ["cash_out", "collector"], ["drop", "cash_out", "collector"]]
TARGET_PRECISION = 0.90


def role_f1(d: pd.DataFrame, min_score: float, policy: dict) -> dict[str, float]:
    """Per-role F1 on the dump rows when roles are assigned like score.assign_roles with `policy`."""
    from narcotrace.money import score as sm

    classes = [c[2:] for c in d.columns if c.startswith("p_")]
    w = np.array([float(policy.get("class_weights", {}).get(c, 1.0)) for c in classes])
    out = pd.DataFrame({"score": d["score"].to_numpy(),
                        "role": np.array(classes, dtype=object)[(d[[f"p_{c}" for c in classes]].to_numpy() * w).argmax(1)]})
    X = pd.DataFrame({f"sign_{k}": d[f"sign_{k}"] for k in ("drop", "collector", "cash_out")})
    signs = {k: X[f"sign_{k}"].astype(bool) for k in ("drop", "collector", "cash_out")}
    orig = sm.rule_signs
    sm.rule_signs = lambda _x: signs  # the dump already holds each account's signs
    try:
        out = sm.assign_roles(out, X, min_score, policy)
    finally:
        sm.rule_signs = orig
    out.loc[(d["kind_exchanger"] + d["kind_wallet"]).to_numpy() > 0, "role"] = "exchanger"
    out.loc[(d["kind_cash"] + d["kind_atm"]).to_numpy() > 0, "role"] = "cash_out"
    res = {}
    for r in ROLE_TARGETS:
        t = (d["true_role"] == r).to_numpy()
        # flagged as that role = alerted (score at or over the threshold) and named so, like
        # scripts/eval_money.py; a cash desk's kind names its role at any score, but is not alerted below it
        f = (out["role"] == r).to_numpy() & (out["score"].to_numpy() >= min_score)
        tp = (t & f).sum()
        p, rec = (tp / f.sum() if f.sum() else 0.0), (tp / t.sum() if t.sum() else 0.0)
        res[r] = 2 * p * rec / (p + rec) if p + rec else 0.0
    return res


def choose(d: pd.DataFrame) -> tuple[float, dict, dict]:
    """Threshold: the highest recall at precision >= 0.90 (max F1 if none reaches it); then the role policy
    (which rule signs override the role model, and from what score a sign lifts an account to an alert)
    with the best mean per-role F1."""
    c = threshold_curve(d)
    ok = c[c["precision"] >= TARGET_PRECISION]
    row = ok.sort_values(["recall", "threshold"], ascending=[True, False]).iloc[-1] if len(ok) else c.loc[c["f1"].idxmax()]
    min_score = float(row["threshold"])
    best = None
    for overrides in OVERRIDE_CHOICES:
        for lift in [None, 0.05, 0.1, 0.2]:
            for wdrop in (1.0, 2.0, 4.0):
                policy = {"rule_overrides": overrides, "sign_min_score": lift if overrides else None,
                          "class_weights": {"drop": wdrop}}
                f1s = role_f1(d, min_score, policy)
                m = float(np.mean(list(f1s.values())))
                if best is None or m > best[0] + 1e-9:
                    best = (m, policy, f1s)
    return min_score, {k: float(v) for k, v in row.items()}, {**best[1], "tuning_role_f1": best[2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", type=Path, action="append", default=[])
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--dump", type=Path, required=True, help="per-account rows (reused if it exists)")
    ap.add_argument("--recalibrate", action="store_true", help="refit the isotonic calibration on the tuning worlds")
    ap.add_argument("--write", action="store_true", help="store threshold and role policy in the model and its card")
    args = ap.parse_args()
    if args.dump.is_file():
        d = pd.read_parquet(args.dump)
    else:
        d = pd.concat([dump_world(w, args.model) for w in args.world], ignore_index=True)
        d.to_parquet(args.dump)
    y = d["true_role"].isin(SUSPECT).to_numpy().astype(int)
    print("reliability (shipped calibration):\n" + reliability(d).to_string())
    calibrator = None
    if args.recalibrate:
        from sklearn.isotonic import IsotonicRegression

        calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(d["raw"], y)
        d = d.assign(score=calibrator.predict(d["raw"]))
        print("reliability (refitted on the tuning worlds, in-sample):\n" + reliability(d).to_string())
    min_score, at, policy = choose(d)
    print(json.dumps({"min_score": min_score, "at_threshold": at, "role_policy": policy}, indent=1))
    if args.write:
        from narcotrace.money import score as sm

        folder = Path(args.model) if args.model else None
        model = sm.load_model(folder)
        worlds = sorted(d["world"].unique().tolist())
        if calibrator is not None:
            model.calibrator = calibrator
            model.card["calibration"] = {"method": "isotonic on raw stage-2 scores", "worlds": worlds,
                                         "accounts": int(len(d)), "suspects": int(y.sum())}
        model.card["alert_threshold"] = {"min_score": min_score, "rule": f"highest recall at precision >= "
                                         f"{TARGET_PRECISION:.2f} on the tuning worlds", "tuning_worlds": worlds,
                                         "at_threshold": at}
        model.card["role_policy"] = policy
        model.save(folder)
        print(f"wrote threshold {min_score:.4f} and role policy into {folder}")


if __name__ == "__main__":
    main()
