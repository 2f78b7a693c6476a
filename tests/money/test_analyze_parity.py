"""The money pipeline gives the same typology hits, scores and alerts on DuckDB and on Spark."""

from __future__ import annotations

import pandas as pd
import pytest

from narcotrace.money.analyze import analyze
from narcotrace.workspace import Workspace
from shapes import load_into, shapes_world

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _results(ws: Workspace) -> dict[str, pd.DataFrame]:
    q = ws.con.execute
    return {
        "hits": q("SELECT hit_id, typology, account_ids, transfer_ids, amount, first_ts, last_ts, explanation "
                  "FROM typology_hits ORDER BY hit_id").df(),
        "scores": q("SELECT account_id, score, role FROM account_scores ORDER BY account_id").df(),
        "alerts": q("SELECT alert_id, account_id, role, typologies, evidence_transfer_ids, model_version "
                    "FROM alerts ORDER BY alert_id").df(),
    }


def _run_both(tmp_path, spark, rules_only: bool):
    df, _ = shapes_world()
    out = {}
    for engine in ("duckdb", "spark"):
        with Workspace.open(tmp_path / engine) as ws:
            load_into(ws, df, tmp_path)
            report = analyze(ws, engine=engine, rules_only=rules_only)
            out[engine] = (report, _results(ws))
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame, float_cols: tuple[str, ...] = ()) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        if c in float_cols:
            assert a[c].to_numpy() == pytest.approx(b[c].to_numpy(), rel=1e-6, abs=1e-9), c
        else:
            left = a[c].map(lambda v: list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v)
            right = b[c].map(lambda v: list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v)
            assert left.tolist() == right.tolist(), c


@pytest.mark.parametrize("rules_only", [True, False], ids=["rules", "model"])
def test_duckdb_and_spark_agree(tmp_path, spark, rules_only):
    res = _run_both(tmp_path, spark, rules_only)
    (rd, d), (rs, s) = res["duckdb"], res["spark"]
    assert rd.hits == rs.hits and rd.total_hits >= 10
    assert rd.model_version == rs.model_version
    _same(d["hits"], s["hits"], ("amount",))
    _same(d["scores"], s["scores"], ("score",))
    _same(d["alerts"], s["alerts"])
    assert rd.alerts_created == rs.alerts_created > 0
