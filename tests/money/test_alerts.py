"""analyze raises alerts with reasons and evidence; reviews keep who/when/why; re-runs keep reviewed alerts."""

from __future__ import annotations

import csv
import json

import pytest

from narcotrace.errors import UserError
from narcotrace.money import alerts as al
from narcotrace.money.analyze import analyze
from shapes import load_into, shapes_world


@pytest.fixture
def analysed(workspace, tmp_path):
    df, _ = shapes_world()
    load_into(workspace, df, tmp_path)
    report = analyze(workspace, rules_only=True)
    return workspace, report


def test_analyze_counts_hits_and_creates_alerts(analysed):
    ws, report = analysed
    assert report.model_version == "rules-1"
    assert all(report.hits[name] >= 1 for name in report.hits)
    assert report.alerts_created == ws.count("alerts") > 0
    assert ws.count("account_scores") == report.accounts_scored
    assert ws.count("typology_hits") == report.total_hits
    assert "typology hits" in str(report.render().renderables[1].title)


def test_drop_alert_has_role_reasons_and_evidence(analysed):
    ws, _ = analysed
    drop = [a for a in al.list_alerts(ws) if a["account_id"] == "drop1"][0]
    assert drop["role"] == "drop" and "rapid_pass_through" in drop["typologies"]
    assert drop["model_version"] == "rules-1" and drop["status"] == "new"
    assert any("forwarded 98%" in r for r in drop["reasons"])
    planted_in = {t for t, in ws.con.execute("SELECT transfer_id FROM transfers WHERE to_account = 'drop1'").fetchall()}
    assert planted_in <= set(drop["evidence_transfer_ids"])


def test_status_flow_records_who_when_why(analysed):
    ws, _ = analysed
    aid = al.alert_id_for("drop1")
    al.set_status(ws, aid, "in_review", "checking the payers", by="alice")
    al.set_status(ws, aid, "confirmed", "payers match shop ads", by="bob")
    row = ws.con.execute("SELECT status, updated_by, status_reason FROM alerts WHERE alert_id = ?", [aid]).fetchone()
    assert row == ("confirmed", "bob", "payers match shop ads")
    hist = al.events(ws, aid)
    assert [(e["actor"], e["from_status"], e["to_status"]) for e in hist] == [
        ("alice", "new", "in_review"), ("bob", "in_review", "confirmed")]
    assert ws.con.execute("SELECT count(*) FROM decisions WHERE target_id = ?", [aid]).fetchone()[0] == 2
    assert ws.con.execute("SELECT count(*) FROM audit_log WHERE action = 'alert_status'").fetchone()[0] == 2
    with pytest.raises(UserError, match="cannot go from confirmed to dismissed"):
        al.set_status(ws, aid, "dismissed", "changed my mind")
    with pytest.raises(UserError, match="reason"):
        al.set_status(ws, aid, "in_review", " ")
    with pytest.raises(UserError, match="no such alert"):
        al.set_status(ws, "AL-nope", "in_review", "x")


def test_rerun_replaces_new_alerts_and_keeps_reviewed(analysed):
    ws, first = analysed
    aid = al.alert_id_for("drop1")
    al.set_status(ws, aid, "dismissed", "known courier company", by="carol")
    second = analyze(ws, rules_only=True)
    assert second.alerts_kept_reviewed == 1
    assert second.alerts_replaced == first.alerts_created - 1  # all still new
    assert second.alerts_created == first.alerts_created - 1
    row = ws.con.execute("SELECT status, updated_by FROM alerts WHERE alert_id = ?", [aid]).fetchone()
    assert row == ("dismissed", "carol")
    assert ws.count("alerts") == first.alerts_created


def test_cli_alerts_csv_first_column_is_account(analysed, run_cli, tmp_path):
    ws, _ = analysed
    out = tmp_path / "alerts.csv"
    res = run_cli("alerts", "--out", out, "--workspace", ws.root)
    assert res.exit_code == 0, res.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0][0] == "account_id" and len(rows) == ws.count("alerts") + 1
    header = rows[0]
    first = dict(zip(header, rows[1]))
    assert ";" in first["evidence_transfer_ids"] and not first["evidence_transfer_ids"].startswith("[")
    res = run_cli("alerts", "--status", "new", "--min-score", "0.8", "--out", tmp_path / "a.jsonl", "--workspace", ws.root)
    lines = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert lines and all(x["score"] >= 0.8 and isinstance(x["typologies"], list) for x in lines)


def test_cli_set_status_and_show(analysed, run_cli):
    ws, _ = analysed
    aid = al.alert_id_for("drop1")
    res = run_cli("alerts", "set", aid, "--status", "in_review", "--reason", "look closer", "--by", "dana",
                  "--workspace", ws.root)
    assert res.exit_code == 0, res.stderr
    res = run_cli("alerts", "show", aid, "--workspace", ws.root)
    assert "dana" in res.stdout and "look closer" in res.stdout and "drop1" in res.stdout
    res = run_cli("alerts", "set", aid, "--status", "closed", "--reason", "x", "--workspace", ws.root)
    assert res.exit_code == 1


def test_analyze_on_empty_workspace_is_a_clear_error(workspace):
    with pytest.raises(UserError, match="no transfers"):
        analyze(workspace, rules_only=True)


def test_analyze_runs_on_real_ibm_rows(workspace, shared_formats):
    from narcotrace.money.ingest import ingest_paths

    sample = shared_formats / "ibm_aml" / "HI-Small_Trans__atalayero_fixture_first166rows.csv"
    if not sample.is_file():
        pytest.skip("IBM AML sample not in ../shared/formats")
    ingest_paths(workspace, [sample])
    report = analyze(workspace)
    stored = workspace.count("transfers")
    assert report.transfers == stored > 0 and report.model_version.startswith("money-lgbm")
    scored = workspace.con.execute("SELECT count(*), min(score), max(score) FROM account_scores").fetchone()
    assert scored[0] == report.accounts_scored > 0 and 0 <= scored[1] <= scored[2] <= 1
