"""Bad input: every row stored or quarantined with a reason naming file and row; no crash; attacks refused."""

from __future__ import annotations

import time

import pytest

from narcotrace.money.ingest import ingest_paths


def quarantine(ws, source_suffix=""):
    return dict(ws.con.execute(
        "SELECT source_row, reason FROM quarantine WHERE source LIKE ? ORDER BY source_row",
        [f"%{source_suffix}"]).fetchall())


def test_bad_csv_rows_each_get_their_reason(workspace, money_fixtures):
    path = money_fixtures / "bad" / "transfers_bad.csv"
    report = ingest_paths(workspace, [path])
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined, f.duplicates) == (12, 2, 9, 1)
    q = quarantine(workspace, "transfers_bad.csv")
    assert q[2] == "zero or negative amount" and q[3] == "zero or negative amount"
    assert q[4] == "unknown currency"
    assert q[5] == "self-transfer"
    assert q[7] == "duplicate transfer id with different content (first at row 1)"
    assert q[8] == "unparseable timestamp"
    assert q[9] == "missing account"
    assert q[10].startswith("malformed row: too many columns")
    assert q[11] == "unparseable amount"
    # row 6 repeats row 1 exactly: a re-delivery, counted as a duplicate, stored once
    assert workspace.con.execute("SELECT count(*) FROM transfers WHERE transfer_id = 'b1'").fetchone() == (1,)
    # the row after the malformed one keeps its own row number; an offset and lower-case currency are fine
    assert workspace.con.execute("SELECT source_row, currency, timestamp::VARCHAR FROM transfers "
                                 "WHERE transfer_id = 'b10'").fetchone() == (12, "USD", "2025-02-28 02:00:00")
    # the raw row is kept for review
    raw = workspace.con.execute("SELECT raw FROM quarantine WHERE source_row = 4").fetchone()[0]
    assert "DOGECOIN" in raw
    # the summary names file and row
    assert f.examples[0] == "transfers_bad.csv, row 2: zero or negative amount"


def test_unordered_timestamps_are_stored_as_given(workspace, money_fixtures):
    ingest_paths(workspace, [money_fixtures / "bad" / "transfers_bad.csv"])
    got = workspace.con.execute("SELECT transfer_id FROM transfers ORDER BY timestamp").fetchall()
    assert [g[0] for g in got] == ["b10", "b1"]  # b10 comes later in the file but earlier in time


def test_reingesting_adds_nothing(workspace, money_fixtures):
    path = money_fixtures / "bad" / "transfers_bad.csv"
    ingest_paths(workspace, [path])
    counts = [workspace.count(t) for t in ("transfers", "quarantine", "accounts")]
    again = ingest_paths(workspace, [path])
    assert again.files[0].skipped and again.read == 0
    assert [workspace.count(t) for t in ("transfers", "quarantine", "accounts")] == counts


def test_same_transfers_in_another_file_are_duplicates(workspace, money_fixtures, tmp_path):
    src = money_fixtures / "transfers_small.csv"
    copy = tmp_path / "resent.csv"
    text = src.read_text(encoding="utf-8").splitlines()
    # same content re-sent with one changed amount under an existing id
    text[2] = text[2].replace(",5000,", ",5100,")
    copy.write_text("\n".join(text) + "\n", encoding="utf-8")
    ingest_paths(workspace, [src])
    report = ingest_paths(workspace, [copy])
    f = report.files[0]
    assert (f.read, f.stored, f.duplicates, f.quarantined) == (8, 0, 7, 1)
    assert quarantine(workspace, "resent.csv")[2].startswith(
        "duplicate transfer id with different content (stored from ")


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_bomb_and_external_entity_are_refused(workspace, money_fixtures, name):
    start = time.monotonic()
    report = ingest_paths(workspace, [money_fixtures / "bad" / name])
    assert time.monotonic() - start < 5  # nothing was expanded
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined) == (1, 0, 1)
    reason = quarantine(workspace, name)[1]
    assert reason.startswith("malformed XML: DTD, entity or external reference refused")
    assert "root:" not in workspace.con.execute("SELECT string_agg(raw, '') FROM quarantine").fetchone()[0]
    assert workspace.count("transfers") == 0


def test_truncated_xml_keeps_what_was_read_and_quarantines_the_rest(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "bad" / "truncated_pacs008.xml"])
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined) == (2, 1, 1)
    assert quarantine(workspace, "truncated_pacs008.xml")[2].startswith("malformed XML: unclosed token: line 6")


def test_not_xml_of_a_known_kind(workspace, tmp_path):
    from narcotrace.errors import InputError

    p = tmp_path / "other.xml"
    p.write_text("<?xml version='1.0'?><Document><Other/></Document>")
    with pytest.raises(InputError, match="neither pacs.008"):
        ingest_paths(workspace, [p])


def test_missing_file_is_a_user_error(workspace, tmp_path):
    from narcotrace.errors import UserError

    with pytest.raises(UserError, match="no such file"):
        ingest_paths(workspace, [tmp_path / "nope.csv"])


def test_binary_garbage_is_an_input_error_not_a_crash(workspace, tmp_path):
    from narcotrace.errors import InputError

    p = tmp_path / "garbage.parquet"
    p.write_bytes(b"\x00\x01not parquet at all" * 10)
    with pytest.raises(InputError, match="garbage.parquet"):
        ingest_paths(workspace, [p])
