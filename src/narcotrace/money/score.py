"""Account risk scores and suspected roles: a calibrated LightGBM model, or transparent rules without one.

The model sees each account's features (features.py), how often it takes part in each typology (as the
anchor and as a member), what kind of account it is, and, in a second stage, the mean first-stage score of
its neighbours one and two hops away. Its risk output is calibrated (isotonic, fitted on a later time slice
than the one it was trained on); a second classifier names the suspected role of risky accounts.
Every score names the model version that produced it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from narcotrace.errors import UserError
from narcotrace.money import features as feat
from narcotrace.money.typologies import DETECTORS

SUSPECT_ROLES = ["drop", "collector", "cash_out", "laundering"]  # what the model learns to find
RULES_VERSION = "rules-1"
RULES_MIN_SCORE = 0.5  # rules-only alert threshold (the rules' score is not a probability)
DEFAULT_MIN_SCORE = 0.5  # for a model whose card names no threshold
MODEL_FILE = "money_model.joblib"
CARD_FILE = "money_model.json"
TYPOLOGIES = list(DETECTORS)
KIND_ROLE = {"exchanger": "exchanger", "wallet": "exchanger", "cash": "cash_out", "atm": "cash_out"}

# Rules-only weights: how strongly taking part in a shape suggests laundering. Every member of a closed
# laundering shape (cycle, chain, stack, ...) counts fully; counterparts of a one-account shape (the buyers
# paying a drop, the payers of a fan-in) count half.
RULE_WEIGHTS = {
    "rapid_pass_through": 0.7, "cycle": 0.5, "scatter_gather": 0.5, "stack": 0.5, "random_chain": 0.5,
    "structuring": 0.5, "bipartite": 0.4, "gather_scatter": 0.4, "fan_in": 0.2, "fan_out": 0.2,
}
ANCHOR_ONLY = {"rapid_pass_through", "structuring", "gather_scatter", "fan_in", "fan_out"}
LAUNDERING_SHAPES = ["cycle", "scatter_gather", "stack", "random_chain", "gather_scatter", "bipartite", "structuring"]


# ---- the feature matrix ------------------------------------------------------------------------------

def typology_counts(hits: ir.Table) -> ir.Table:
    """Per account: hits of each typology as anchor (first account of the hit) and as any member."""
    h = hits.mutate(anchor=hits.account_ids[0])
    m = h.select("typology", "anchor", account_id=h.account_ids.unnest())
    m = m.mutate(is_anchor=(m.account_id == m.anchor).cast("int64"))
    aggs = {}
    for name in TYPOLOGIES:
        is_t = (m.typology == name).cast("int64")
        aggs[f"ty_{name}"] = is_t.sum()
        aggs[f"tya_{name}"] = (is_t * m.is_anchor).sum()
    return m.group_by("account_id").aggregate(**aggs)


def base_matrix(features: pd.DataFrame, counts: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """Model inputs by account_id: numeric features, typology counts, kind flags; no raw timestamps."""
    X = features.copy()
    for c in ("first_seen", "last_seen"):
        X[c] = pd.to_datetime(X[c])
    X["span_days"] = (X["last_seen"] - X["first_seen"]).dt.total_seconds() / 86400.0
    X = X.drop(columns=["first_seen", "last_seen"])
    X = X.merge(counts, on="account_id", how="left")
    for name in TYPOLOGIES:
        for pre in ("ty_", "tya_"):
            col = pre + name
            X[col] = X[col].fillna(0) if col in X else 0
    kinds = pd.Series(dtype=object)
    if accounts is not None and len(accounts):
        kinds = accounts.set_index("account_id")["kind"]
    k = X["account_id"].map(kinds)
    for kind in ("exchanger", "wallet", "cash", "foreign", "atm"):
        X[f"kind_{kind}"] = (k == kind).astype("int8")
    X = X.set_index("account_id")
    return X.apply(pd.to_numeric, errors="coerce").astype("float64")


def neighbour_columns(engine: Any, edges: ir.Table, scores: pd.Series, hops: int = 2) -> pd.DataFrame:
    """Mean first-stage score of each account's counterparties (nb1), and the mean of their nb1 (nb2).

    nb2 is two 1-hop passes rather than an exact 2-hop neighbourhood: at millions of transfers the exact
    one costs ~30x more (every pair of a hub's counterparties) for a near-identical signal.
    """
    out = pd.DataFrame(index=scores.index)
    values = scores
    # The counterparty pairs (a distinct over both directions of every transfer) are built once, not per pass.
    pairs = feat.neighbour_pairs(edges).cache()
    try:
        for h in range(1, hops + 1):
            frame = pd.DataFrame({"account_id": values.index.astype(str), "value": values.to_numpy(dtype=float)})
            nm = engine.execute(feat.neighbour_mean(edges, ibis.memtable(frame), hops=1, pairs=pairs))
            nm = nm.set_index("account_id")
            out[f"nb{h}_mean"] = nm["neighbour_mean"].reindex(out.index)
            out[f"nb{h}_n"] = nm["neighbour_n"].reindex(out.index).fillna(0)
            values = out[f"nb{h}_mean"].dropna()
    finally:
        pairs.release()
    return out


# ---- rules-only scoring ---------------------------------------------------------------------------

def rule_signs(X: pd.DataFrame) -> dict[str, pd.Series]:
    """The transparent signs of a drop, a collector and a cash-out point, by account."""
    return {
        "drop": (X["small_payers_max_day"].fillna(0) >= 5) & (X["fast_out_share"].fillna(0) >= 0.5)
        & (X["pass_through"].fillna(0).between(0.8, 1.05)),
        "collector": (X["out_exchanger_share"].fillna(0) + X["out_abroad_share"].fillna(0) >= 0.5)
        & (X["in_degree"].fillna(0) >= 2) & (X["pass_through"].fillna(0) >= 0.7),
        "cash_out": (X["out_cash_share"].fillna(0) >= 0.5) & (X["in_count"].fillna(0) >= 3),
    }


def rules_scores(X: pd.DataFrame) -> pd.DataFrame:
    """Risk from typology participation and drop/collector/cash-out signs, and a role by the same signs."""
    no_risk = np.ones(len(X))
    for name, w in RULE_WEIGHTS.items():
        anchor = X[f"tya_{name}"].to_numpy() > 0
        member = X[f"ty_{name}"].to_numpy() > 0
        member_w = w / 2 if name in ANCHOR_ONLY else w
        no_risk *= np.where(anchor, 1 - w, np.where(member, 1 - member_w, 1.0))
    signs = rule_signs(X)
    drop_sign, collector_sign, cash_sign = signs["drop"], signs["collector"], signs["cash_out"]
    no_risk *= np.where(drop_sign, 0.5, 1.0) * np.where(collector_sign, 0.7, 1.0) * np.where(cash_sign, 0.8, 1.0)
    score = 1 - no_risk
    role = np.full(len(X), "normal", dtype=object)
    laund = np.zeros(len(X), dtype=bool)
    for name in LAUNDERING_SHAPES:
        laund |= X[f"ty_{name}"].to_numpy() > 0
    role[laund] = "laundering"
    role[cash_sign.to_numpy()] = "cash_out"
    role[collector_sign.to_numpy()] = "collector"
    role[(drop_sign | (X["tya_rapid_pass_through"] > 0)).to_numpy()] = "drop"
    role[(score > 0) & (role == "normal")] = "laundering"
    return pd.DataFrame({"score": score, "role": role, "role_score": np.where(role == "normal", np.nan, score)},
                        index=X.index)


# ---- the model --------------------------------------------------------------------------------------

@dataclass
class MoneyModel:
    """Two-stage LightGBM risk model with isotonic calibration, plus a role classifier."""

    version: str
    base_columns: list[str]
    stage1: Any = None
    stage2: Any = None
    calibrator: Any = None
    role_model: Any = None
    role_classes: list[str] = field(default_factory=list)
    neighbour_hops: int = 2
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def min_score(self) -> float:
        """The alert threshold chosen on the model's tuning worlds (its card says how), else 0.5."""
        return float(self.card.get("alert_threshold", {}).get("min_score", DEFAULT_MIN_SCORE))

    @property
    def role_policy(self) -> dict[str, Any]:
        """How model roles and rule signs combine (tuned with the threshold; see assign_roles)."""
        return self.card.get("role_policy", {})

    @property
    def stage2_columns(self) -> list[str]:
        nb = [f"nb{h}_{s}" for h in range(1, self.neighbour_hops + 1) for s in ("mean", "n")]
        return self.base_columns + nb

    def first_stage(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(self.stage1.predict_proba(X[self.base_columns])[:, 1], index=X.index)

    def final(self, X2: pd.DataFrame) -> pd.DataFrame:
        raw = self.stage2.predict_proba(X2[self.stage2_columns])[:, 1]
        score = self.calibrator.predict(raw) if self.calibrator is not None else raw
        proba = self.role_model.predict_proba(X2[self.stage2_columns])
        weights = np.array([float(self.role_policy.get("class_weights", {}).get(c, 1.0)) for c in self.role_classes])
        best = (proba * weights).argmax(axis=1)
        out = pd.DataFrame({"score": np.clip(score, 0, 1), "raw": raw,
                            "role": np.array(self.role_classes, dtype=object)[best],
                            "role_score": proba[np.arange(len(best)), best]}, index=X2.index)
        return out

    def save(self, folder: Path) -> Path:
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        joblib.dump(self, path, compress=3)
        (folder / CARD_FILE).write_text(json.dumps({"version": self.version, **self.card}, indent=2, default=str),
                                        encoding="utf-8")
        return path


def load_model(path: str | Path | None = None) -> MoneyModel:
    """The model at `path` (a .joblib file or a folder holding one), or the one shipped in the package."""
    import joblib

    if path is None:
        ref = resources.files("narcotrace.models").joinpath(MODEL_FILE)
        if not ref.is_file():
            raise UserError("no shipped money model in this installation; run `narcotrace train-money` or use --rules-only")
        with resources.as_file(ref) as p:
            return joblib.load(p)
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise UserError(f"--model {path}: no model file there; train one with `narcotrace train-money --out DIR`")
    model = joblib.load(p)
    if not isinstance(model, MoneyModel):
        raise UserError(f"--model {path}: not a narcotrace money model")
    return model


# ---- scoring a workspace -------------------------------------------------------------------------

def build_matrix(engine: Any, transfers: ir.Table, accounts: ir.Table | None, hits: ir.Table) -> pd.DataFrame:
    """Features + typology counts + kind flags for every account in `transfers`, as pandas."""
    f = engine.execute(feat.account_features(transfers, accounts))
    counts = engine.execute(typology_counts(hits))
    acc = engine.execute(accounts.select("account_id", "kind")) if accounts is not None else None
    return base_matrix(f, counts, acc)


def apply_kind_roles(out: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """What an account is (an exchanger's or a cash desk's account) outranks what it looks like."""
    for kind, role in KIND_ROLE.items():
        col = f"kind_{kind}"
        if col in X:
            out.loc[X[col].reindex(out.index).fillna(0).to_numpy() > 0, "role"] = role
    return out


def assign_roles(out: pd.DataFrame, X: pd.DataFrame, min_score: float, policy: dict[str, Any]) -> pd.DataFrame:
    """Suspected role of each risky account: the role model's, overridden by the rule signs the policy trusts.

    The role model only learned suspects, so an account under the alert threshold has no role. The rule
    signs (rule_signs) name collectors and cash-out points more reliably than the model on the tuning
    worlds; `policy["rule_overrides"]` lists the signs that win. An account showing a trusted sign with a
    score of at least `policy["sign_min_score"]` is also lifted to the threshold, so it is alerted:
    the sign plus moderate model risk is the evidence.
    """
    out = out.copy()
    signs = rule_signs(X.reindex(out.index))
    for role in policy.get("rule_overrides", []):
        lift_at = policy.get("sign_min_score")
        sign = signs[role].to_numpy()
        if lift_at is not None:
            lift = sign & (out["score"].to_numpy() >= float(lift_at)) & (out["score"].to_numpy() < min_score)
            out.loc[lift, "score"] = min_score
        out.loc[sign & (out["score"].to_numpy() >= min_score), "role"] = role
    out.loc[out["score"] < min_score, "role"] = "normal"
    return out


def score_accounts(engine: Any, transfers: ir.Table, accounts: ir.Table | None, hits: ir.Table, *,
                   model: MoneyModel | None, X: pd.DataFrame | None = None,
                   min_score: float | None = None) -> tuple[pd.DataFrame, str]:
    """Scores by account_id (score, role, role_score) and the version that produced them.

    Accounts under `min_score` (default: the model's threshold) get no suspected role.
    """
    if X is None:
        X = build_matrix(engine, transfers, accounts, hits)
    if model is None:
        out = rules_scores(X)
        version = RULES_VERSION
    else:
        missing = [c for c in model.base_columns if c not in X]
        for c in missing:  # a feature this model knew but these features lack: unknown, not zero
            X[c] = np.nan
        s1 = model.first_stage(X)
        edges = transfers.select("from_account", "to_account")
        nb = neighbour_columns(engine, edges, s1, model.neighbour_hops)
        threshold = model.min_score if min_score is None else min_score
        out = assign_roles(model.final(X.join(nb)), X, threshold, model.role_policy)
        version = model.version
    out = apply_kind_roles(out, X)
    return out, version


def transfer_scores(transfers_accounts: pd.DataFrame, account_scores: pd.Series) -> np.ndarray:
    """A transfer is as risky as the chance that either end is a suspect account."""
    s_from = transfers_accounts["from_account"].map(account_scores).fillna(0).to_numpy()
    s_to = transfers_accounts["to_account"].map(account_scores).fillna(0).to_numpy()
    return 1 - (1 - s_from) * (1 - s_to)
