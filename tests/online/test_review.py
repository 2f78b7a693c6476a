"""Review: the queue (undecided flagged posts, highest score first), decisions per post and per shop."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from narcotrace.errors import UserError
from narcotrace.online.review import decide, decisions_for_training, queue, shop_identifier


def add_post(ws, post_id, label, score, indicators=(), text=None):
    ws.con.execute(
        "INSERT INTO posts (post_id, source_format, source, source_row, captured_at, sha256, text, score, label, "
        "categories) VALUES (?, 'telegram', 'result.json', 1, ?, 'x', ?, ?, ?, ['cathinones'])",
        [post_id, datetime(2026, 10, 1), text or f"text of {post_id}", score, label])
    for kind, value, canonical in indicators:
        ws.con.execute("INSERT INTO indicators (post_id, kind, value, canonical_id) VALUES (?, ?, ?, ?)",
                       [post_id, kind, value, canonical])


@pytest.fixture
def ws(workspace):
    add_post(workspace, "1/1", "sale", 0.80, [("telegram", "multi_shop", "telegram:multi_shop"),
                                              ("card", "4111111111111111", "card:4111111111111111")])
    add_post(workspace, "1/2", "sale", 0.99, [("telegram", "multi_shop", "telegram:multi_shop")])
    add_post(workspace, "1/3", "recruitment", 0.91, [("telegram", "hr_bot", "telegram:hr_bot")])
    add_post(workspace, "1/4", "none", 0.02)
    add_post(workspace, "2/1", "sale", 0.60, [("domain", "shop.kz", "domain:shop.kz")])
    return workspace


def test_queue_is_flagged_undecided_posts_highest_score_first(ws):
    items = queue(ws)
    assert [i.post_id for i in items] == ["1/2", "1/3", "1/1", "2/1"]
    assert items[2].indicators == ["card:4111111111111111", "telegram:multi_shop"]
    assert [i.post_id for i in queue(ws, label="recruitment")] == ["1/3"]
    assert [i.post_id for i in queue(ws, min_score=0.85)] == ["1/2", "1/3"]
    assert [i.post_id for i in queue(ws, limit=1)] == ["1/2"]
    decide(ws, "approve", ["1/2"], reason="price list", reviewer="alice")
    assert "1/2" not in [i.post_id for i in queue(ws)]


def test_decision_rows_and_audit(ws, monkeypatch):
    monkeypatch.setenv("NARCOTRACE_USER", "dana")
    decide(ws, "reject", ["2/1"], reason="a shop selling table salt")
    row = ws.con.execute("SELECT target_kind, target_id, decision, label, reason, reviewer, decided_at "
                         "FROM decisions").fetchone()
    assert row[:6] == ("post", "2/1", "reject", None, "a shop selling table salt", "dana")
    assert isinstance(row[6], datetime)
    audit = ws.con.execute("SELECT actor, action, target, details FROM audit_log").fetchall()
    assert audit[-1][:3] == ("dana", "reject", "2/1")
    assert json.loads(audit[-1][3])["reason"] == "a shop selling table salt"


def test_shop_decision_covers_every_post_with_the_indicator(ws):
    done = decide(ws, "approve", shop="@Multi_Shop", reason="same operator", reviewer="alice")
    assert sorted(done) == ["1/1", "1/2"]
    kinds = ws.con.execute("SELECT target_kind, target_id FROM decisions ORDER BY target_kind, target_id").fetchall()
    assert kinds == [("post", "1/1"), ("post", "1/2"), ("shop", "telegram:multi_shop")]
    assert decide(ws, "reject", shop="domain:SHOP.kz", reason="legit", reviewer="a") == ["2/1"]


def test_unknown_ids_and_shops_are_errors_and_nothing_is_written(ws):
    with pytest.raises(UserError, match="unknown post id\\(s\\): nope, 9/9"):
        decide(ws, "approve", ["1/1", "nope", "9/9"], reason="x")
    with pytest.raises(UserError, match="no post carries the indicator telegram:ghost"):
        decide(ws, "approve", shop="telegram:ghost", reason="x")
    with pytest.raises(UserError, match="--reason"):
        decide(ws, "approve", ["1/1"], reason=" ")
    with pytest.raises(UserError, match="--label sale or --label recruitment"):
        decide(ws, "approve", ["1/4"], reason="the model missed it")
    with pytest.raises(UserError, match="give the shop as an indicator id"):
        shop_identifier("multi_shop")
    assert ws.count("decisions") == 0 and ws.count("audit_log") == 0


def test_decisions_for_training_use_the_latest_decision(ws):
    decide(ws, "approve", ["1/1"], reason="shop", reviewer="a")
    decide(ws, "reject", ["1/3"], reason="a real delivery job", reviewer="a")
    decide(ws, "approve", ["1/4"], reason="missed", reviewer="a", label="recruitment")
    decide(ws, "approve", ["2/1"], reason="shop", reviewer="a")
    decide(ws, "reject", ["2/1"], reason="no, salt", reviewer="b")
    assert decisions_for_training(ws) == [("1/1", "text of 1/1", "sale"), ("1/3", "text of 1/3", "none"),
                                          ("1/4", "text of 1/4", "recruitment"), ("2/1", "text of 2/1", "none")]


def test_cli(ws, run_cli):
    path = ws.root
    ws.close()
    r = run_cli("review", "queue", "--workspace", path)
    assert r.exit_code == 0 and "1/2" in r.stdout and "telegram:multi_shop" in r.stdout
    r = run_cli("review", "approve", "1/2", "1/1", "--reason", "prices", "--reviewer", "alice", "--workspace", path)
    assert r.exit_code == 0 and "approved 2 post(s)" in r.stdout
    r = run_cli("review", "reject", "--shop", "telegram:hr_bot", "--reason", "job ad", "--workspace", path)
    assert r.exit_code == 0 and "rejected 1 post(s) of shop telegram:hr_bot" in r.stdout
    r = run_cli("review", "approve", "zzz", "--reason", "x", "--workspace", path)
    assert r.exit_code == 1
    assert r.stderr.strip().count("\n") == 0 and "unknown post id(s): zzz" in r.stderr
    r = run_cli("review", "queue", "--workspace", path)
    assert "2/1" in r.stdout and "1/2" not in r.stdout


def test_channel_decision_covers_its_posts_and_the_channel(ws, run_cli):
    ws.con.execute("INSERT INTO channel_members (channel_id, member_kind, member_id, role) VALUES "
                   "('ch-1', 'post', '1/1', 'sale'), ('ch-1', 'post', '1/3', 'recruitment'), "
                   "('ch-1', 'account', 'KZ01', 'drop')")
    done = decide(ws, "approve", channel="ch-1", reason="one operator: shared handles and drops", reviewer="alice")
    assert done == ["1/1", "1/3"]
    kinds = ws.con.execute("SELECT target_kind, target_id FROM decisions ORDER BY target_kind, target_id").fetchall()
    assert kinds == [("channel", "ch-1"), ("post", "1/1"), ("post", "1/3")]
    with pytest.raises(UserError, match="ch-none"):
        decide(ws, "approve", channel="ch-none", reason="x")
    root = ws.root
    ws.close()
    r = run_cli("review", "reject", "--channel", "ch-1", "--reason", "second look: a legal courier firm",
                "--workspace", root)
    assert r.exit_code == 0, r.stderr
    assert "channel ch-1" in r.stdout
