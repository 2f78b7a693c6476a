"""`narcotrace scan` and `narcotrace train` on the command line: outputs, accounting, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scan_cli_writes_contract_lines(run_cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "c1", "text": "Меф 1г 15000 тг, клад магнит, Алматы. Пиши @shop_kz_test"}, ensure_ascii=False)
        + "\n" + json.dumps({"id": "c2", "text": "Продам фен для волос Philips, 8000 тг"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("scan", src, "--out", out, "--workspace", tmp_path / "ws")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "read 2 = 2 stored + 0 quarantined" in r.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in rows] == ["c1", "c2"]
    for x in rows:
        assert set(x) == {"id", "source", "score", "label", "categories", "indicators", "explanation"}
        assert set(x["indicators"]) == {"telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto"}
    assert rows[0]["label"] == "sale" and rows[1]["label"] == "none"


def test_scan_cli_extra_lexicon(run_cli, tmp_path):
    lex = tmp_path / "extra.yaml"
    lex.write_text("lang: ru\nterms:\n  - {term: зеленый дракон*, kind: drug, category: cannabis, weight: 2.0}\n",
                   encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "text": "Зеленый дракончик 1г 9000 тг, клад магнит, пиши @green_drag_kz"},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("scan", src, "--out", out, "--lexicon", lex, "--workspace", tmp_path / "ws")
    assert r.exit_code == 0, r.stdout + r.stderr
    row = json.loads(out.read_text(encoding="utf-8"))
    assert "cannabis" in row["categories"]
    assert any("зеленый дракон" in e["feature"] for e in row["explanation"])


def test_scan_cli_errors_name_the_problem(run_cli, tmp_path):
    r = run_cli("scan", tmp_path / "missing.jsonl", "--workspace", tmp_path / "ws")
    assert r.exit_code == 1 and "missing.jsonl" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("lang: ru\nterms:\n  - {term: x, kind: nonsense}\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "hello"}\n', encoding="utf-8")
    r = run_cli("scan", src, "--lexicon", bad, "--workspace", tmp_path / "ws")
    assert r.exit_code == 1 and "bad.yaml" in r.stderr
    r = run_cli("scan", src, "--format", "pdf", "--workspace", tmp_path / "ws")
    assert r.exit_code == 1 and "--format" in r.stderr


def test_train_cli_refuses_heldout(run_cli, tmp_path):
    r = run_cli("train", "--posts", ROOT / "data" / "heldout" / "posts.jsonl", "--out", tmp_path / "m.joblib",
                "--no-include-decisions")
    assert r.exit_code == 1 and "held-out" in r.stderr
    assert not (tmp_path / "m.joblib").exists()


def test_scan_telegram_export(run_cli, tmp_path):
    export = ROOT / "tests" / "fixtures" / "online" / "telegram_chat" / "result.json"
    out = tmp_path / "tg.jsonl"
    r = run_cli("scan", export, "--format", "telegram", "--out", out, "--workspace", tmp_path / "ws")
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(x["label"] in ("sale", "recruitment", "none") for x in rows)
