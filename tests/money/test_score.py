"""Scoring: typology counts per account, transparent rules, a trained model with a temporal split and a card."""

from __future__ import annotations

import json

import ibis
import numpy as np
import pandas as pd
import pytest

from narcotrace.errors import UserError
from narcotrace.money import score as sm
from narcotrace.money import typologies as ty
from shapes import load_into, shapes_world


def test_typology_counts_split_anchor_and_member():
    df, _ = shapes_world()
    con = ibis.duckdb.connect()
    hits = ty.detect_all(con.create_table("t", df))
    counts = sm.typology_counts(hits).execute().set_index("account_id")
    assert counts.loc["drop1", "tya_rapid_pass_through"] == 1
    assert counts.loc["coll1", "ty_rapid_pass_through"] == 1 and counts.loc["coll1", "tya_rapid_pass_through"] == 0
    assert counts.loc["c2", "ty_cycle"] == 1


def _matrix(**cols) -> pd.DataFrame:
    base = {f"{p}{n}": 0.0 for n in ty.DETECTORS for p in ("ty_", "tya_")}
    base.update({"small_payers_max_day": 0, "fast_out_share": 0, "pass_through": 0, "out_exchanger_share": 0,
                 "out_abroad_share": 0, "in_degree": 0, "out_cash_share": 0, "in_count": 0})
    rows = []
    for name, over in cols.items():
        rows.append({**base, **over, "account_id": name})
    return pd.DataFrame(rows).set_index("account_id")


def test_rules_rank_drops_and_shapes_above_quiet_accounts():
    X = _matrix(
        quiet={},
        drop={"tya_rapid_pass_through": 1, "small_payers_max_day": 9, "fast_out_share": 0.9, "pass_through": 0.98},
        looper={"ty_cycle": 1, "tya_cycle": 1},
        buyer={"ty_rapid_pass_through": 1},
        collector={"out_exchanger_share": 0.9, "in_degree": 4, "pass_through": 0.95},
    )
    s = sm.rules_scores(X)
    assert s.loc["quiet", "score"] == 0 and s.loc["quiet", "role"] == "normal"
    assert s.loc["drop", "role"] == "drop" and s.loc["drop", "score"] > 0.8
    assert s.loc["looper", "role"] == "laundering" and s.loc["looper", "score"] >= 0.5
    assert s.loc["buyer", "score"] < 0.5  # paying a drop once is not laundering
    assert s.loc["collector", "role"] == "collector"


def test_kind_outranks_behaviour_for_role():
    out = pd.DataFrame({"score": [0.9, 0.9], "role": ["laundering", "drop"], "role_score": [0.9, 0.9]},
                       index=["ex", "p"])
    X = pd.DataFrame({"kind_exchanger": [1, 0], "kind_cash": [0, 0]}, index=["ex", "p"])
    assert sm.apply_kind_roles(out, X)["role"].tolist() == ["exchanger", "drop"]


def test_shipped_model_has_version_and_card():
    model = sm.load_model()
    assert model.version and model.version != sm.RULES_VERSION
    from importlib import resources

    card = json.loads(resources.files("narcotrace.models").joinpath(sm.CARD_FILE).read_text())
    assert card["version"] == model.version
    assert card["seed"] is not None and card["training_data"] and card["later_slice_metrics"]
    assert "temporal" in card["split"]


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no model file"):
        sm.load_model(tmp_path)


@pytest.mark.slow
def test_train_on_a_world_then_analyze_with_it(tmp_path, run_cli, workspace):
    from narcotrace.money.analyze import analyze
    from narcotrace.sim.world import simulate

    world = tmp_path / "world"
    simulate(world, seed=4242, people=1500, days=21)
    res = run_cli("train-money", "--world", world, "--out", tmp_path / "model", "--version", "test-model-1",
                  "--seed", "3")
    assert res.exit_code == 0, res.stdout + res.stderr
    card = json.loads((tmp_path / "model" / sm.CARD_FILE).read_text())
    assert card["version"] == "test-model-1" and card["seed"] == 3
    assert card["fit_suspects"] > 0 and "later_slice_metrics" in card
    from narcotrace.money.ingest import ingest_accounts, ingest_paths

    ingest_accounts(workspace, [world / "accounts.parquet"])
    ingest_paths(workspace, [world / "transfers.parquet"])
    report = analyze(workspace, model_path=tmp_path / "model")
    assert report.model_version == "test-model-1"
    scores = workspace.con.execute("SELECT score, model_version FROM account_scores").df()
    assert scores["model_version"].eq("test-model-1").all()
    assert scores["score"].between(0, 1).all() and scores["score"].nunique() > 2
    versions = {v for v, in workspace.con.execute("SELECT DISTINCT model_version FROM alerts").fetchall()}
    assert versions <= {"test-model-1"}


def test_labels_file_errors_name_the_row(tmp_path):
    from narcotrace.money.train import _labels_from_file

    f = tmp_path / "labels.csv"
    f.write_text("account_id,label\nA1,1\nA2,yes\n")
    with pytest.raises(UserError, match="row 3"):
        _labels_from_file(f)
    f.write_text("account_id,role\nA1,drop\nA2,\n")
    assert _labels_from_file(f).to_dict() == {"A1": "drop", "A2": "normal"}
    f.write_text("acct,role\n")
    with pytest.raises(UserError, match="account_id"):
        _labels_from_file(f)


def test_roles_rule_signs_override_and_lift_to_the_threshold():
    X = _matrix(
        coll={"out_exchanger_share": 0.9, "in_degree": 5, "pass_through": 0.95},
        cash={"out_cash_share": 0.9, "in_count": 6},
        weak_coll={"out_exchanger_share": 0.9, "in_degree": 5, "pass_through": 0.95},
        risky={},
        quiet={},
    )
    out = pd.DataFrame({"score": [0.9, 0.15, 0.01, 0.8, 0.1], "role": ["laundering"] * 5,
                        "role_score": [0.5] * 5}, index=X.index)
    policy = {"rule_overrides": ["cash_out", "collector"], "sign_min_score": 0.1}
    got = sm.assign_roles(out, X, 0.3, policy)
    assert got.loc["coll", "role"] == "collector" and got.loc["coll", "score"] == 0.9
    # a cash-out sign with some model risk is lifted to the threshold so it is alerted
    assert got.loc["cash", "role"] == "cash_out" and got.loc["cash", "score"] == 0.3
    # a sign alone, with almost no model risk, is not enough
    assert got.loc["weak_coll", "role"] == "normal" and got.loc["weak_coll", "score"] == 0.01
    assert got.loc["risky", "role"] == "laundering" and got.loc["quiet", "role"] == "normal"
    # without a policy the role model decides and nothing is lifted
    plain = sm.assign_roles(out, X, 0.3, {})
    assert plain.loc["cash", "role"] == "normal" and plain.loc["coll", "role"] == "laundering"


def test_threshold_comes_from_the_card_unless_given():
    m = sm.MoneyModel(version="x", base_columns=[])
    assert m.min_score == sm.DEFAULT_MIN_SCORE
    m.card["alert_threshold"] = {"min_score": 0.27}
    assert m.min_score == 0.27
    shipped = sm.load_model()
    assert 0 < shipped.min_score < 1 and "alert_threshold" in shipped.card
