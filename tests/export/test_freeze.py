"""Freeze list: approved (confirmed) alerts only unless --proposed; bank, reason, score, evidence; audited."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "money"))
from shapes import load_into, shapes_world  # noqa: E402

from narcotrace.money import alerts as al  # noqa: E402
from narcotrace.money.analyze import analyze  # noqa: E402


@pytest.fixture
def reviewed(workspace, tmp_path):
    df, _ = shapes_world()
    load_into(workspace, df, tmp_path)
    analyze(workspace, rules_only=True)
    al.set_status(workspace, al.alert_id_for("drop1"), "confirmed", "payers match shop ads", by="alice")
    al.set_status(workspace, al.alert_id_for("c0"), "dismissed", "family loop", by="alice")
    return workspace


def _rows(path):
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_only_approved_without_proposed(reviewed, run_cli, tmp_path):
    out = tmp_path / "freeze.csv"
    res = run_cli("export", "--format", "freeze", "--out", out, "--workspace", reviewed.root)
    assert res.exit_code == 0, res.stderr
    rows = _rows(out)
    assert [r["account_id"] for r in rows] == ["drop1"]
    r = rows[0]
    assert r["bank"] == "kaspi" and r["approval"] == "approved" and r["reviewed_by"] == "alice"
    assert float(r["score"]) >= 0.5 and "rapid_pass_through" in r["typologies"]
    assert len(r["evidence_transfer_ids"].split(";")) >= 12 and "forwarded" in r["reason"]
    audit = reviewed.con.execute(
        "SELECT details FROM audit_log WHERE action = 'freeze_list' ORDER BY \"at\" DESC LIMIT 1").fetchone()[0]
    assert json.loads(audit)["accounts"] == ["drop1"]
    assert reviewed.con.execute("SELECT count(*) FROM audit_log WHERE action = 'export'").fetchone()[0] == 1


def test_proposed_adds_unreviewed_marked_and_never_dismissed(reviewed, tmp_path):
    from narcotrace.export import freeze

    out = tmp_path / "freeze.csv"
    n = freeze.export(reviewed, out, proposed=True, channel=None, schema=None)
    rows = _rows(out)
    assert n == len(rows) > 1
    assert {r["approval"] for r in rows} == {"approved", "proposed"}
    assert "c0" not in {r["account_id"] for r in rows}  # dismissed
    assert all(r["reviewed_by"] == "" for r in rows if r["approval"] == "proposed")


def test_nothing_approved_writes_header_only(workspace, tmp_path):
    from narcotrace.export import freeze

    out = tmp_path / "f.csv"
    assert freeze.export(workspace, out, proposed=False, channel=None, schema=None) == 0
    assert out.read_text().splitlines()[0].startswith("account_id,bank,reason,score,evidence_transfer_ids")


def test_channel_limits_to_its_accounts(reviewed, tmp_path):
    from narcotrace.errors import UserError
    from narcotrace.export import freeze

    with pytest.raises(UserError, match="run `narcotrace channels`"):
        freeze.export(reviewed, tmp_path / "f.csv", proposed=True, channel="ch-0001", schema=None)
    reviewed.con.execute("INSERT INTO channel_members (channel_id, member_kind, member_id, role) VALUES "
                         "('ch-0001', 'account', 'drop1', 'drop'), ('ch-0001', 'account', 'c0', 'collector')")
    out = tmp_path / "f.csv"
    freeze.export(reviewed, out, proposed=True, channel="ch-0001", schema=None)
    assert [r["account_id"] for r in _rows(out)] == ["drop1"]  # c0's alert was dismissed
    with pytest.raises(UserError, match="unknown channel"):
        freeze.export(reviewed, out, proposed=True, channel="ch-9999", schema=None)
