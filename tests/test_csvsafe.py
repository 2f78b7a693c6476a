import csv

from narcotrace.csvsafe import cell, row


def test_formula_cells_are_neutralised():
    assert cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("+SUM(1)") == "'+SUM(1)"
    assert cell("plain") == "plain"


def test_numbers_stay_numbers():
    assert cell("-12.5") == "-12.5"
    assert cell(-3) == -3
    assert row(["-1", "=1+1"]) == ["-1", "'=1+1"]


def test_blocklist_csv_escapes_hostile_post_ids(tmp_path):
    from datetime import datetime

    from narcotrace.online.blocklist import csv_

    class E:
        kind, value, canonical_id, status = "domain", "shop.kz", "domain:shop.kz", "proposed"
        post_ids, source_urls, captured_at = ["=cmd|' /C calc'!A0"], ["http://shop.kz"], [datetime(2026, 1, 1)]
        sha256s, score, reviewers = ["ab"], 0.9, []

    out = tmp_path / "b.csv"
    csv_.write([E()], out, proposed=True)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[1][4].startswith("'=")
