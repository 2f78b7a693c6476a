"""HTML pages and folders, and WARC files, including scripts and styles, and broken WARCs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from narcotrace.online.sources import Quarantined, RawPost, ReadReport, read_posts

FX = Path(__file__).resolve().parents[1] / "fixtures" / "online"


def _read(*paths, fmt="auto"):
    report = ReadReport()
    items = list(read_posts([str(p) for p in paths], fmt, report=report))
    return ([i for i in items if isinstance(i, RawPost)], [i for i in items if isinstance(i, Quarantined)],
            report)


def test_html_page_visible_text_title_links_without_scripts_and_styles():
    posts, bad, _ = _read(FX / "page.html")
    assert not bad and len(posts) == 1
    page = posts[0]
    assert "MUST-NOT-APPEAR" not in page.text
    assert page.text.splitlines()[0] == "Тест Шоп — мефедрон 24/7"  # the title
    assert "Мефедрон кристаллы, закладки по Алматы" in page.text  # inline tags don't split words
    assert "1 г 15000" in page.text
    assert page.post_id == page.url == "https://test-shop.example.kz/index.html"  # canonical URL
    assert page.links == ["https://test-shop.example.kz/contacts", "https://t.me/test_operator",
                          "mailto:shop@example.kz"]
    assert page.sha256 == hashlib.sha256((FX / "page.html").read_bytes()).hexdigest()
    assert page.extra["title"] == "Тест Шоп — мефедрон 24/7"


def test_html_folder_is_walked_and_images_are_counted_not_read():
    posts, bad, report = _read(FX / "site")
    assert not bad
    by_name = {Path(p.source).name: p for p in posts}
    assert set(by_name) == {"index.html", "about.html"}
    assert "курьеры нужны" in by_name["about.html"].text  # windows-1251 from <meta http-equiv>
    assert by_name["index.html"].post_id == str(FX / "site" / "index.html")  # no canonical: the path
    assert by_name["index.html"].links == [(FX / "site" / "about.html").resolve().as_uri()]
    assert report.skipped["files that are not posts (images, other formats)"] == 1


def _warc(records: list[tuple[str, str, bytes, int]], gzip: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    for url, ctype, body, status in records:
        headers = StatusAndHeaders(f"{status} OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))
    return out.getvalue()


PAGES = [
    ("https://a.example.kz/", "text/html; charset=utf-8",
     "<html><title>A</title><script>bad()</script><p>мефедрон закладки</p></html>".encode(), 200),
    ("https://a.example.kz/logo.png", "image/png", b"\x89PNG....", 200),
    ("https://a.example.kz/price.txt", "text/plain; charset=windows-1251", "Прайс: 1г 15000".encode("cp1251"), 200),
    ("https://a.example.kz/gone", "text/html", b"<p>not found</p>", 404),
    ("https://a.example.kz/robots.txt", "text/plain", b"User-agent: *\nDisallow:", 200),
    ("https://a.example.kz/last", "text/html", b"<p>last page</p>", 200),
]


@pytest.mark.parametrize("gzip", [True, False])
def test_warc_responses_become_posts(tmp_path, gzip):
    p = tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc")
    p.write_bytes(_warc(PAGES, gzip))
    posts, bad, report = _read(p)
    assert not bad
    assert [x.post_id for x in posts] == ["https://a.example.kz/", "https://a.example.kz/price.txt",
                                          "https://a.example.kz/last"]
    assert posts[0].text == "A\nмефедрон закладки" and "bad()" not in posts[0].text
    assert posts[1].text == "Прайс: 1г 15000"
    assert posts[0].source_format == "warc" and posts[0].source_row == 0
    assert posts[1].source_row > posts[0].source_row  # byte offset of the record
    assert posts[0].sha256 == hashlib.sha256(PAGES[0][2]).hexdigest()
    fr = report.files[0]
    assert fr.skipped["responses that are not HTML or text"] == 1
    assert fr.skipped["HTTP responses other than 2xx (redirects, errors)"] == 1
    assert fr.skipped["robots.txt"] == 1


def test_broken_gzip_record_is_quarantined_with_its_offset_and_the_rest_read(tmp_path):
    members = [_warc([page], gzip=True) for page in PAGES]
    broken = bytearray(members[2])
    broken[len(broken) // 2: len(broken) // 2 + 8] = b"\x00garbage"
    data = members[0] + members[1] + bytes(broken) + b"".join(members[3:])
    p = tmp_path / "broken.warc.gz"
    p.write_bytes(data)
    posts, bad, report = _read(p)
    assert [x.post_id for x in posts] == ["https://a.example.kz/", "https://a.example.kz/last"]
    assert len(bad) == 1
    offset = len(members[0]) + len(members[1])
    assert bad[0].source_row == offset
    assert bad[0].reason.startswith(f"broken WARC record at byte offset {offset:,}")
    assert "reading resumed" in bad[0].reason


def test_garbage_between_uncompressed_records_and_truncated_end(tmp_path):
    first = _warc(PAGES[:1], gzip=False)
    rest = _warc(PAGES[5:], gzip=False)
    data = first + b"this is not a WARC header\r\n\r\n" + rest + _warc(PAGES[2:3], gzip=False)[:60]
    p = tmp_path / "broken.warc"
    p.write_bytes(data)
    posts, bad, _ = _read(p)
    assert [x.post_id for x in posts] == ["https://a.example.kz/", "https://a.example.kz/last"]
    assert [q.source_row for q in bad] == [len(first), len(first) + 29 + len(rest)]
    assert "no further record" in bad[-1].reason


def test_not_a_warc(tmp_path):
    p = tmp_path / "fake.warc"
    p.write_text("hello")
    _, bad, report = _read(p)
    assert bad[0].reason.startswith("not a WARC file") and report.files[0].error
