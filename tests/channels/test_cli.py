"""`narcotrace channels`: the JSON contract other tools read, and the command's errors."""

from __future__ import annotations

import json

from town import A_DROP1, build_town


def test_channels_out_json_shape(run_cli, workspace, tmp_path):
    build_town(workspace)
    workspace.close()
    out = tmp_path / "ch.json"
    r = run_cli("channels", "--out", out, "--workspace", workspace.root)
    assert r.exit_code == 0, r.stderr
    assert "drug channels" in r.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    channels = data["channels"]
    assert len(channels) == 2
    for ch in channels:
        for key in ("id", "name", "post_ids", "indicators", "accounts", "volume", "first_seen", "last_seen",
                    "cities", "confidence"):
            assert key in ch, key
        assert ch["id"].startswith("ch-") and 0.0 <= ch["confidence"] <= 1.0
        for a in ch["accounts"]:
            assert {"account_id", "role", "score"} <= set(a)
            assert a["role"] in ("drop", "wallet", "collector", "exchanger", "cash_out")
    snow = next(c for c in channels if "a0" in c["post_ids"])
    assert any(a["account_id"] == A_DROP1 and a["role"] == "drop" for a in snow["accounts"])
    assert all(i.split(":", 1)[0] in ("telegram", "card", "phone", "domain", "onion", "email", "iban", "btc", "tron",
                                      "eth", "ltc", "xmr") for i in snow["indicators"])


def test_two_runs_write_the_same_channels(run_cli, workspace, tmp_path):
    build_town(workspace)
    workspace.close()
    for name in ("one.json", "two.json"):
        assert run_cli("channels", "--out", tmp_path / name, "--workspace", workspace.root).exit_code == 0
    one, two = (json.loads((tmp_path / n).read_text())["channels"] for n in ("one.json", "two.json"))
    assert one == two


def test_fresh_workspace_writes_an_empty_list_and_says_why(run_cli, tmp_path):
    out = tmp_path / "ch.json"
    r = run_cli("channels", "--out", out, "--workspace", tmp_path / "fresh")
    assert r.exit_code == 0
    assert json.loads(out.read_text())["channels"] == []
    assert "narcotrace scan" in r.stdout


def test_unwritable_out_is_one_clear_line(run_cli, workspace, tmp_path):
    build_town(workspace)
    workspace.close()
    (tmp_path / "file").write_text("x")
    r = run_cli("channels", "--out", tmp_path / "file" / "ch.json", "--workspace", workspace.root)
    assert r.exit_code == 1
    assert "--out" in r.stderr and "Traceback" not in r.stderr


def test_bad_min_confidence_is_refused(run_cli, tmp_path):
    r = run_cli("channels", "--min-confidence", "2", "--workspace", tmp_path / "ws")
    assert r.exit_code != 0
