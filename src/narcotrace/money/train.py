"""Train the money risk model with a temporal split: fit on the earlier part of each dataset, calibrate on the later.

Labelled data: simulated worlds (truth/accounts.parquet roles), a workspace whose transfers came with labels
(IBM "Is Laundering", AMLSim SAR flags: the transfer_labels table), or an analyst's labels file
(CSV: account_id plus role, or label 0/1). Features and typologies are computed separately on each time
slice, so the later slice used for calibration and validation never leaks into the fit.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from narcotrace.console import progress
from narcotrace.errors import UserError
from narcotrace.money import score as score_mod
from narcotrace.money import typologies
from narcotrace.money.engine import open_engine
from narcotrace.workspace import Workspace

TRAIN_SHARE = 0.7  # first 70 % of the time span to fit, the rest to calibrate and validate
EXCLUDED_ROLES = {"shop_wallet", "shop_foreign"}  # the shop's own wallets/foreign accounts: endpoints, not suspects
NEIGHBOUR_HOPS = 2


@dataclass
class Slice:
    """One time slice of one dataset: its feature matrix, roles, and the engine to compute neighbours on."""

    name: str
    X: pd.DataFrame
    roles: pd.Series
    ws: Workspace
    time_filter: tuple[datetime, datetime]


def _lgbm(seed: int, n: int = 300) -> Any:
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=n, learning_rate=0.05, num_leaves=31, min_child_samples=10,
                          subsample=0.9, subsample_freq=1, colsample_bytree=0.9, reg_lambda=1.0,
                          random_state=seed, n_jobs=2, verbose=-1, deterministic=True, force_row_wise=True)


def _time_bounds(ws: Workspace) -> tuple[datetime, datetime, datetime]:
    lo, hi = ws.con.execute("SELECT min(timestamp), max(timestamp) FROM transfers").fetchone()
    if lo is None:
        raise UserError(f"workspace {ws.root}: no transfers to train on")
    split = lo + (hi - lo) * TRAIN_SHARE
    return lo, split, hi + pd.Timedelta(seconds=1)  # the last transfer belongs to the later slice


def _slice_matrix(ws: Workspace, lo: datetime, hi: datetime, params: dict, tag: str) -> pd.DataFrame:
    with open_engine(ws, "duckdb") as eng:
        t = eng.table("transfers")
        t = t.filter((t.timestamp >= lo) & (t.timestamp < hi))
        typologies.write_hits(eng, f"_hits_{tag}", t, params)
        hits = eng.table(f"_hits_{tag}")
        return score_mod.build_matrix(eng, t, eng.table("accounts"), hits)


def _neighbours(s: Slice, values: pd.Series) -> pd.DataFrame:
    with open_engine(s.ws, "duckdb") as eng:
        t = eng.table("transfers")
        lo, hi = s.time_filter
        t = t.filter((t.timestamp >= lo) & (t.timestamp < hi)).select("from_account", "to_account")
        return score_mod.neighbour_columns(eng, t, values, NEIGHBOUR_HOPS)


def slices_of(ws: Workspace, roles: pd.Series, name: str, params: dict,
              crime_transfers: pd.Series | None = None) -> tuple[Slice, Slice]:
    """Earlier and later slice of a workspace with account roles (index account_id -> role).

    Roles are facts about the whole period, but a drop is a drop only while its spell lasts and a
    laundering member only around its pattern. With `crime_transfers` (ids of drug and laundering
    transfers), a suspect-role account counts as a suspect in a slice only if it took part in one of
    them there; otherwise it is left out of that slice (neither suspect nor a clean negative).
    """
    lo, split, hi = _time_bounds(ws)
    if crime_transfers is not None:
        ws.con.register("_crime", pd.DataFrame({"transfer_id": crime_transfers.astype(str)}))
    out = []
    try:
        for tag, (a, b) in (("fit", (lo, split)), ("cal", (split, hi))):
            X = _slice_matrix(ws, a, b, params, tag)
            r = roles.reindex(X.index).fillna("normal")
            keep = ~r.isin(EXCLUDED_ROLES)
            if crime_transfers is not None:
                active = {x for x, in ws.con.execute("""
                    SELECT DISTINCT acct FROM (
                        SELECT from_account AS acct, timestamp FROM transfers SEMI JOIN _crime USING (transfer_id)
                        UNION ALL
                        SELECT to_account, timestamp FROM transfers SEMI JOIN _crime USING (transfer_id))
                    WHERE timestamp >= ? AND timestamp < ?""", [a, b]).fetchall()}
                keep &= ~r.isin(score_mod.SUSPECT_ROLES) | r.index.isin(list(active))
            out.append(Slice(f"{name}:{tag}", X[keep], r[keep], ws, (a, b)))
    finally:
        if crime_transfers is not None:
            ws.con.unregister("_crime")
    return out[0], out[1]


def _binary(roles: pd.Series) -> np.ndarray:
    return roles.isin(score_mod.SUSPECT_ROLES).to_numpy().astype(int)


def fit(fit_slices: list[Slice], cal_slices: list[Slice], *, version: str, seed: int,
        sources: list[dict[str, Any]]) -> score_mod.MoneyModel:
    """Stage 1 on base features (out-of-fold scores feed the neighbour features), stage 2 with neighbours,
    isotonic calibration and the role classifier; metrics on the later slices."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    cols = sorted(set().union(*[set(s.X.columns) for s in fit_slices]))
    # account ids repeat across datasets (an ATM id in two worlds): rows stay per slice, never joined by id
    XA = pd.concat([s.X.reindex(columns=cols) for s in fit_slices], ignore_index=True)
    rA = pd.concat([s.roles for s in fit_slices], ignore_index=True)
    yA = _binary(rA)
    if yA.sum() < 5 or (len(yA) - yA.sum()) < 5:
        raise UserError(f"training data has {int(yA.sum())} suspect and {int(len(yA) - yA.sum())} other accounts; "
                        "need at least 5 of each (more worlds or a longer period)")
    model = score_mod.MoneyModel(version=version, base_columns=cols, neighbour_hops=NEIGHBOUR_HOPS)
    model.stage1 = _lgbm(seed)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    oof = cross_val_predict(_lgbm(seed), XA, yA, cv=folds, method="predict_proba")[:, 1]
    model.stage1.fit(XA, yA)
    # neighbour features: out-of-fold first-stage scores on the fit slices, fitted stage 1 on the later ones
    nbA, start = [], 0
    for s in fit_slices:
        vals = pd.Series(oof[start:start + len(s.X)], index=s.X.index)
        start += len(s.X)
        nbA.append(_neighbours(s, vals).reindex(s.X.index))
    XA2 = pd.concat([XA, pd.concat(nbA, ignore_index=True)], axis=1)
    model.stage2 = _lgbm(seed + 1)
    model.stage2.fit(XA2[model.stage2_columns], yA)
    suspects = rA.isin(score_mod.SUSPECT_ROLES).to_numpy()
    model.role_classes = sorted(rA[suspects].unique().tolist())
    model.role_model = _lgbm(seed + 2, 200)
    model.role_model.fit(XA2.loc[suspects, model.stage2_columns], rA[suspects].to_numpy())

    XB = pd.concat([s.X.reindex(columns=cols) for s in cal_slices], ignore_index=True)
    rB = pd.concat([s.roles for s in cal_slices], ignore_index=True)
    yB = _binary(rB)
    nbB = pd.concat([_neighbours(s, model.first_stage(s.X.reindex(columns=cols))).reindex(s.X.index)
                     for s in cal_slices], ignore_index=True)
    XB2 = pd.concat([XB, nbB], axis=1)
    rawB = model.stage2.predict_proba(XB2[model.stage2_columns])[:, 1]
    model.calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(rawB, yB)
    # metrics on the later slice; calibration was fitted there too, so these are in-sample for the
    # calibrator (not for the trees) and only a sanity check: docs/evaluation.md uses held-out worlds
    pB = model.calibrator.predict(rawB)
    pred = pB >= 0.5
    metrics = {
        "later_slice_accounts": int(len(yB)), "later_slice_suspects": int(yB.sum()),
        "roc_auc_uncalibrated": float(roc_auc_score(yB, rawB)) if 0 < yB.sum() < len(yB) else None,
        "average_precision": float(average_precision_score(yB, pB)) if yB.sum() else None,
        "precision_at_0.5": float(precision_score(yB, pred, zero_division=0)),
        "recall_at_0.5": float(recall_score(yB, pred, zero_division=0)),
        "f1_at_0.5": float(f1_score(yB, pred, zero_division=0)),
    }
    importances = sorted(zip(model.stage2_columns, model.stage2.feature_importances_.tolist()), key=lambda kv: -kv[1])
    import lightgbm
    import sklearn

    model.card = {
        "task": "account risk (suspect roles: " + ", ".join(score_mod.SUSPECT_ROLES) + ") and suspected role",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": sources,
        "split": f"temporal per dataset: first {TRAIN_SHARE:.0%} of the time span fits the trees, "
                 f"the rest fits the isotonic calibration",
        "excluded_roles": sorted(EXCLUDED_ROLES),
        "labels": "simulated worlds: an account is a suspect in a time slice if its role is one of the suspect "
                  "roles and it took part in a drug or laundering transfer in that slice; suspect-role accounts "
                  "without such a transfer in a slice are left out of it",
        "fit_accounts": int(len(yA)), "fit_suspects": int(yA.sum()),
        "fit_roles": {k: int(v) for k, v in rA.value_counts().items()},
        "seed": seed,
        "learners": "LightGBM stage 1 (base features) -> stage 2 (+ neighbour mean scores, 1-2 hops) -> "
                    "isotonic calibration; LightGBM multiclass role model on suspects",
        "typology_params": typologies.load_params().get("version"),
        "later_slice_metrics": metrics,
        "top_features": importances[:15],
        "versions": {"lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__,
                     "python": platform.python_version()},
    }
    return model


def _world_roles(world: Path) -> pd.Series:
    path = world / "truth" / "accounts.parquet"
    if not path.is_file():
        raise UserError(f"--world {world}: no truth/accounts.parquet; is it a folder written by `narcotrace simulate`?")
    truth = pd.read_parquet(path, columns=["account_id", "role"])
    return truth.set_index("account_id")["role"]


def _world_facts(world: Path) -> dict[str, Any]:
    facts: dict[str, Any] = {"world": str(world)}
    summary = world / "summary.json"
    if summary.is_file():
        try:
            facts.update(json.loads(summary.read_text()))
        except ValueError:
            pass
    return facts


def train_from_worlds(worlds: list[Path], out: Path, *, version: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Train on simulated worlds (their transfers, accounts and truth roles); write the model to `out`."""
    from narcotrace.money.ingest import ingest_accounts, ingest_paths

    version = version or f"money-lgbm-{datetime.now(UTC):%Y%m%d}"
    params = typologies.load_params()
    tmp = Path(tempfile.mkdtemp(prefix="narcotrace-train-"))
    fits, cals, sources, opened = [], [], [], []
    try:
        with progress() as bar:
            task = bar.add_task("train-money: worlds", total=len(worlds) + 1)
            for i, world in enumerate(worlds):
                world = Path(world)
                if not (world / "transfers.parquet").is_file():
                    raise UserError(f"--world {world}: no transfers.parquet; give a folder written by `narcotrace simulate`")
                roles = _world_roles(world)
                ws = Workspace.open(tmp / f"w{i}")
                opened.append(ws)
                if (world / "accounts.parquet").is_file():
                    ingest_accounts(ws, [world / "accounts.parquet"])
                ingest_paths(ws, [world / "transfers.parquet"])
                crime = None
                truth_tx = world / "truth" / "transfers.parquet"
                if truth_tx.is_file():
                    tx = pd.read_parquet(truth_tx, columns=["transfer_id", "is_drug", "is_laundering"])
                    crime = tx.loc[tx["is_drug"] | tx["is_laundering"], "transfer_id"]
                a, b = slices_of(ws, roles, world.name, params, crime)
                fits.append(a)
                cals.append(b)
                sources.append({**_world_facts(world), "transfers": ws.count("transfers"),
                                "roles": {k: int(v) for k, v in roles.value_counts().items()}})
                bar.advance(task)
            bar.update(task, description="train-money: fit")
            model = fit(fits, cals, version=version, seed=seed, sources=sources)
            bar.advance(task)
        model.save(out)
    finally:
        for ws in opened:
            ws.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"version": model.version, **model.card}


def _labels_from_file(path: Path) -> pd.Series:
    try:
        df = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as e:
        raise UserError(f"--labels {path}: cannot read it as CSV ({e})") from e
    if "account_id" not in df:
        raise UserError(f"--labels {path}: needs an account_id column and a role (or label 0/1) column")
    if "role" in df:
        return df.set_index("account_id")["role"].fillna("normal")
    if "label" in df:
        bad = df[~df["label"].isin(["0", "1"])]
        if len(bad):
            raise UserError(f"--labels {path}, row {bad.index[0] + 2}: label must be 0 or 1, got {bad['label'].iloc[0]!r}")
        return df.set_index("account_id")["label"].map({"1": "laundering", "0": "normal"})
    raise UserError(f"--labels {path}: needs a role column or a label column (0/1)")


def train_from_workspace(workspace: Path, labels: Path | None, out: Path, *, version: str | None = None,
                         seed: int = 0) -> dict[str, Any]:
    """Train on the workspace's transfers with an analyst's labels file, or with the labels that came with
    the transfers (transfer_labels: an account in a laundering transfer of a slice is a suspect there)."""
    version = version or f"money-lgbm-{datetime.now(UTC):%Y%m%d}"
    params = typologies.load_params()
    with Workspace.open(workspace, create=False) as ws:
        if labels is not None:
            roles = _labels_from_file(labels)
            source = {"labels_file": str(labels), "workspace": str(workspace)}
        else:
            n = ws.count("transfer_labels")
            if not n:
                raise UserError(f"workspace {workspace} has no transfer labels; pass --labels FILE or --world DIR")
            rows = ws.con.execute("""
                SELECT DISTINCT acct FROM (
                    SELECT t.from_account AS acct FROM transfers t JOIN transfer_labels l USING (transfer_id) WHERE l.label = 1
                    UNION ALL
                    SELECT t.to_account FROM transfers t JOIN transfer_labels l USING (transfer_id) WHERE l.label = 1)
            """).fetchall()
            roles = pd.Series("laundering", index=[r[0] for r in rows], dtype=object)
            source = {"transfer_labels": int(n), "workspace": str(workspace),
                      "sources": [r[0] for r in ws.con.execute("SELECT DISTINCT source FROM transfer_labels").fetchall()]}
        a, b = slices_of(ws, roles, Path(workspace).name, params)
        model = fit([a], [b], version=version, seed=seed, sources=[source])
        for tag in ("fit", "cal"):
            ws.con.execute(f'DROP TABLE IF EXISTS "_hits_{tag}"')
    model.save(out)
    return {"version": model.version, **model.card}


def render_card(card: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"model {card['version']}", show_header=False)
    t.add_column("what")
    t.add_column("value")
    t.add_row("fit accounts", f"{card['fit_accounts']:,} ({card['fit_suspects']:,} suspects)")
    t.add_row("roles", ", ".join(f"{k} {v}" for k, v in card["fit_roles"].items()))
    for k, v in card["later_slice_metrics"].items():
        t.add_row(f"later slice: {k}", f"{v:.3f}" if isinstance(v, float) else str(v))
    t.add_row("top features", ", ".join(name for name, _ in card["top_features"][:8]))
    return t
