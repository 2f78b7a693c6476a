"""JSONL and CSV posts: fields, ids, encodings, and every kind of bad input with its reason."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from narcotrace.errors import InputError, UserError
from narcotrace.online.sources import Quarantined, RawPost, ReadReport, file_sha256, read_posts

FX = Path(__file__).resolve().parents[1] / "fixtures" / "online"


def _read(*paths, fmt="auto", **kw):
    report = ReadReport()
    items = list(read_posts([str(p) for p in paths], fmt, report=report, **kw))
    posts = [i for i in items if isinstance(i, RawPost)]
    bad = [i for i in items if isinstance(i, Quarantined)]
    return posts, bad, report


def test_jsonl_posts_keep_their_ids_fields_and_provenance():
    posts, bad, report = _read(FX / "posts.jsonl")
    by_id = {p.post_id: p for p in posts}
    assert set(by_id) == {"p1", "2", "p5", "posts.jsonl:9"}
    p1 = by_id["p1"]
    assert p1.url == "https://t.me/test_shop/1" and p1.channel == "test_shop" and p1.author == "shop"
    assert p1.date.isoformat() == "2026-10-01T07:00:00"  # +05:00 converted to UTC
    assert p1.source_row == 1 and p1.source_format == "jsonl" and p1.source.endswith("posts.jsonl")
    raw_line = (FX / "posts.jsonl").read_bytes().split(b"\n")[0]
    assert p1.sha256 == hashlib.sha256(raw_line).hexdigest()
    assert by_id["p5"].text.startswith("Кристаллы")  # "body" is an alias of text
    assert by_id["2"].date.year == 2026  # unix seconds
    # accounting: every non-blank line is a post or quarantined
    fr = report.files[0]
    assert (fr.read, fr.posts, fr.quarantined) == (9, 4, 5)
    assert fr.skipped["blank lines"] == 1
    assert fr.warnings["posts with an unreadable date (kept without it)"] == 1
    assert fr.encoding == "UTF-8"


def test_malformed_json_lines_are_quarantined_with_line_and_reason():
    _, bad, _ = _read(FX / "posts.jsonl")
    reasons = {q.source_row: q.reason for q in bad}
    assert reasons[3].startswith("not valid JSON")
    assert "not a JSON object" in reasons[5]
    assert "is a int" in reasons[7]
    assert reasons[8].startswith("no text field")
    assert "empty" in reasons[10]
    assert all(q.raw for q in bad)  # the raw line is kept for the analyst


def test_utf8_bom_and_crlf():
    posts, bad, report = _read(FX / "posts_bom.jsonl")
    assert not bad and [p.post_id for p in posts] == ["b1", "b2"]
    assert posts[0].text == "Соль, шишки, бошки — опт и розница"  # no BOM, no \r
    assert report.files[0].encoding == "UTF-8 with BOM"


def test_cp1251_csv_with_semicolons_quotes_and_a_short_row():
    posts, bad, report = _read(FX / "posts_cp1251.csv")
    assert report.files[0].encoding.startswith("cp1251")
    by_id = {p.post_id: p for p in posts}
    assert by_id["c1"].text == "Продаю мефедрон, пишите в личку" and by_id["c1"].author == "Иван"
    assert by_id["c1"].date.isoformat() == "2026-10-01T12:30:00"
    assert by_id["c2"].text == 'Текст с ; разделителем и "кавычками"'
    assert by_id["c4"].text.startswith("Жеткізу")  # і is in cp1251 (Ukrainian); ә, ғ, қ are not
    assert [(q.source_row, q.reason) for q in bad] == [(4, "row has 2 fields, the header has 4")]
    assert by_id["c2"].source_row == 3
    raw = (FX / "posts_cp1251.csv").read_bytes().split(b"\r\n")[1]
    assert by_id["c1"].sha256 == hashlib.sha256(raw).hexdigest()  # bytes as stored, in cp1251


def test_utf16_with_bom_csv_and_jsonl():
    posts, bad, report = _read(FX / "posts_utf16.csv", FX / "posts_utf16.jsonl")
    assert not bad
    assert [p.post_id for p in posts] == ["u1", "u2", "w1"]
    assert posts[0].text == "Альфа ПВП в наличии ❄️" and posts[0].channel == "shop_kz"
    assert [f.encoding for f in report.files] == ["UTF-16-LE with BOM", "UTF-16-LE with BOM"]


def test_utf16_without_bom_is_detected(tmp_path):
    p = tmp_path / "nobom.jsonl"
    p.write_bytes((json.dumps({"id": "x", "text": "hello mephedrone"}) + "\n").encode("utf-16-le"))
    posts, bad, report = _read(p)
    assert [x.text for x in posts] == ["hello mephedrone"] and not bad
    assert "UTF-16-LE" in report.files[0].encoding


def test_empty_blank_and_binary_files_are_rejected_by_name_and_the_rest_is_read():
    posts, bad, report = _read(FX / "empty.jsonl", FX / "blank.csv", FX / "binary.jsonl", FX / "posts_bom.jsonl")
    assert len(posts) == 2
    reasons = {Path(q.source).name: q.reason for q in bad}
    assert reasons["empty.jsonl"] == "empty file (0 bytes): no JSON lines to read"
    assert reasons["blank.csv"].startswith("empty file (only blank lines)")
    assert reasons["binary.jsonl"].startswith("binary file (a PNG image)")
    assert all(q.source_row == 0 for q in bad)
    lines = report.lines()
    assert any("binary.jsonl: binary file" in line for line in lines)
    assert len(report.rejected_files) == 3


def test_binary_file_with_nul_bytes_given_as_csv(tmp_path):
    p = tmp_path / "dump.csv"
    p.write_bytes(b"id,text\n" + bytes([0, 1, 2, 3, 250, 0, 7]) * 100)
    _, bad, _ = _read(p)
    assert bad[0].reason.startswith("binary file (contains NUL bytes)") and bad[0].source == str(p)


def test_invalid_utf8_line_in_utf8_file_is_quarantined(tmp_path):
    p = tmp_path / "mixed.jsonl"
    good = json.dumps({"id": "a", "text": "ok"}).encode()
    p.write_bytes(good + b"\n" + b'{"id": "b", "text": "\xff\xfe bad"}\n' + good.replace(b'"a"', b'"c"') + b"\n")
    # the first 64 KB decide the encoding: here they are not UTF-8, so cp1251 is assumed and the line reads
    posts, bad, report = _read(p)
    assert len(posts) + len(bad) == 3 and report.files[0].encoding.startswith("cp1251")
    big = tmp_path / "mixed_big.jsonl"
    filler = b"".join(json.dumps({"id": f"f{i}", "text": "ok " * 20}).encode() + b"\n" for i in range(2000))
    big.write_bytes(filler + b'{"id": "b", "text": "\xff bad"}\n' + good + b"\n")
    posts, bad, report = _read(big)
    assert report.files[0].encoding == "UTF-8"
    assert len(posts) == 2001 and len(bad) == 1
    assert bad[0].source_row == 2001 and "not valid utf-8" in bad[0].reason


def test_hundred_megabyte_single_line_is_quarantined_without_loading_it(tmp_path):
    import tracemalloc

    p = tmp_path / "huge.jsonl"
    with open(p, "wb") as f:
        f.write(json.dumps({"id": "before", "text": "first post"}).encode() + b"\n")
        f.write(b'{"id": "huge", "text": "')
        chunk = b"A" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(b'"}\n')
        f.write(json.dumps({"id": "after", "text": "last post"}).encode() + b"\n")
    tracemalloc.start()
    posts, bad, report = _read(p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [x.post_id for x in posts] == ["before", "after"]
    assert len(bad) == 1 and bad[0].source_row == 2
    assert "over the 1,048,576-byte limit" in bad[0].reason and "104,857," in bad[0].reason
    assert peak < 16 << 20, f"peak Python memory {peak:,} bytes: the long line was held in memory"
    assert report.files[0].read == 3


def test_csv_multiline_quoted_field_keeps_first_line_number_and_raw_bytes(tmp_path):
    p = tmp_path / "multi.csv"
    p.write_text('id,text\nm1,"line one\nline two"\nm2,next\n', encoding="utf-8")
    posts, bad, _ = _read(p)
    assert [(x.post_id, x.source_row, x.text) for x in posts] == [("m1", 2, "line one\nline two"),
                                                                  ("m2", 4, "next")]
    assert posts[0].sha256 == hashlib.sha256(b'm1,"line one\nline two"').hexdigest()


def test_csv_without_text_column_and_without_rows():
    _, bad, report = _read(FX / "no_text_column.csv")
    assert "has no text column" in bad[0].reason and report.files[0].error


def test_missing_path_and_unknown_format_are_user_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_posts([tmp_path / "nope.jsonl"])
    with pytest.raises(UserError, match="unknown format"):
        read_posts([FX / "posts.jsonl"], "xml")
    odd = tmp_path / "notes.txt"
    odd.write_text("just some words\n")
    _, bad, _ = _read(odd)
    assert bad[0].reason.startswith("unknown format")
    posts, bad, _ = _read(odd, fmt="csv")  # forced: read as CSV, which has no text column
    assert "no text column" in bad[0].reason


def test_reading_is_lazy():
    it = read_posts([FX / "posts.jsonl"])
    first = next(it)
    assert isinstance(first, RawPost) and first.post_id == "p1"


def test_file_sha256():
    p = FX / "posts.jsonl"
    assert file_sha256(p) == hashlib.sha256(p.read_bytes()).hexdigest()


def test_quarantined_rows_store_in_the_workspace(workspace):
    _, bad, report = _read(FX / "posts.jsonl", FX / "binary.jsonl")
    assert workspace.quarantine("posts", [q.row() for q in bad]) == report.quarantined == 6
    rows = workspace.con.execute("SELECT source_row, reason FROM quarantine ORDER BY source, source_row").fetchall()
    assert rows[0] == (0, "binary file (a PNG image), not text; expected JSON lines")
    assert rows[1][0] == 3 and rows[1][1].startswith("not valid JSON")


def test_json_array_of_posts(tmp_path):
    p = tmp_path / "posts.json"
    p.write_text(json.dumps([{"id": "a1", "text": "first"}, {"id": "a2", "message": "second"}, ["bad"],
                             {"id": "a4", "text": ""}], ensure_ascii=False), encoding="utf-8")
    posts, bad, report = _read(p)
    assert [(x.post_id, x.text, x.source_row) for x in posts] == [("a1", "first", 1), ("a2", "second", 2)]
    assert [(q.source_row, q.reason) for q in bad] == [(3, "item is not a JSON object (a list)"),
                                                       (4, "field 'text' is empty")]
    assert report.files[0].format == "jsonl" and "JSON array" in report.files[0].encoding
    cut = tmp_path / "cut.json"
    cut.write_text(p.read_text()[:40])
    posts, bad, _ = _read(cut)
    assert [x.post_id for x in posts] == ["a1"] and "broken after item 1" in bad[0].reason


@pytest.mark.parametrize("codec, bom", [("utf-8", b""), ("utf-16-le", b"\xff\xfe")])
def test_over_long_csv_row_is_quarantined_and_the_next_rows_read(tmp_path, codec, bom):
    p = tmp_path / "long.csv"
    text = "id,text\nr1,short\nr2," + "x" * 5000 + "\nr3,after\n"
    p.write_bytes(bom + text.encode(codec))
    posts, bad, report = _read(p, max_row_bytes=1024)
    assert [x.post_id for x in posts] == ["r1", "r3"]
    assert len(bad) == 1 and bad[0].source_row == 3 and "over the 1,024-byte limit" in bad[0].reason
    assert report.files[0].read == 3
