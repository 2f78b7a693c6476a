"""WARC files (warcio): HTML and plain-text responses become posts; a broken record is quarantined with its
offset and the reader resynchronises on the next record, so one bad record does not cost the rest."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from narcotrace.online.sources.accounting import FileReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.fields import parse_date
from narcotrace.online.sources.html import MAX_PAGE_BYTES, decode_page, page_post

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# What warcio raises on damaged input varies with where the damage is; all of them mean "this record".
_BROKEN = (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, zlib.error, ValueError, OSError,
           IndexError, KeyError, AttributeError, TypeError)
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_START = b"WARC/1."


def read(path: Path, report: FileReport, *, captured_at: datetime,
         max_row_bytes: int = MAX_PAGE_BYTES) -> Iterator[RawPost | Quarantined]:
    source = str(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
        if not head:
            report.error = "empty file (0 bytes): no WARC records to read"
            yield Quarantined(source, 0, report.error)
            return
        gz = head.startswith(b"\x1f\x8b")
        if not gz and not head.lstrip(b"\r\n").startswith((_WARC_START, b"WARC/0.")):
            report.error = "not a WARC file (it starts neither with 'WARC/1.' nor with a gzip header)"
            yield Quarantined(source, 0, report.error)
            return
        report.encoding = "WARC, gzip per record" if gz else "WARC, uncompressed"
        start = 0
        while start < size:
            f.seek(start)
            records = ArchiveIterator(f)
            next_start = start
            try:
                for record in records:
                    # warcio knows a record's (absolute) offset only once it has been read to its end.
                    item = _record(record, source, records.get_record_offset, captured_at, max_row_bytes, report)
                    next_start = records.get_record_offset() + records.get_record_length()
                    if item is not None:
                        yield item
                return
            except _BROKEN as e:
                reason = _reason(e)
            next_start = _skip_blank(f, next_start)
            resume = _next_record_start(f, next_start + 1, gz)
            if resume is None:
                yield Quarantined(source, next_start, f"broken WARC record at byte offset {next_start:,}: {reason}; "
                                                      f"no further record found, the last {size - next_start:,} "
                                                      "bytes were not read")
                return
            yield Quarantined(source, next_start, f"broken WARC record at byte offset {next_start:,}: {reason}; "
                                                  f"{resume - next_start:,} bytes skipped, reading resumed at "
                                                  f"offset {resume:,}")
            report.notes.append(f"resynchronised at offset {resume:,}")
            start = resume


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


def _skip_blank(f: BinaryIO, pos: int) -> int:
    # Records end with two CRLFs that belong to them; the broken part starts after.
    f.seek(pos)
    chunk = f.read(64)
    return pos + len(chunk) - len(chunk.lstrip(b"\r\n"))


def _next_record_start(f: BinaryIO, pos: int, gz: bool) -> int | None:
    """Byte offset of the next thing that looks like a record start at or after `pos`."""
    marker = _GZIP_MEMBER if gz else _WARC_START
    f.seek(pos)
    carry = b""
    base = pos
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            return None
        data = carry + chunk
        i = data.find(marker)
        if i >= 0:
            return base - len(carry) + i
        carry = data[-(len(marker) - 1):]
        base += len(chunk)


def _record(record, source: str, where: Callable[[], int], captured_at: datetime, max_bytes: int,
            report: FileReport) -> RawPost | Quarantined | None:
    rec_type = record.rec_type
    if rec_type not in ("response", "resource"):
        report.skipped[f"{rec_type} records"] += 1
        return None
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    fetched = parse_date(record.rec_headers.get_header("WARC-Date")) or captured_at
    status = None
    if rec_type == "response":
        if record.http_headers is None:
            report.skipped["responses without HTTP headers"] += 1
            return None
        status = record.http_headers.get_statuscode()
        content_type = record.http_headers.get_header("Content-Type") or ""
    else:
        content_type = record.rec_headers.get_header("Content-Type") or ""
    if urlsplit(uri).path == "/robots.txt":
        report.skipped["robots.txt"] += 1
        return None
    if status is not None and not str(status).startswith("2"):
        report.skipped["HTTP responses other than 2xx (redirects, errors)"] += 1
        return None
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    if mime not in _HTML_TYPES and mime != "text/plain":
        report.skipped["responses that are not HTML or text"] += 1
        return None
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    try:
        data = record.content_stream().read(max_bytes + 1)
    except _BROKEN as e:
        offset = where()
        return Quarantined(source, offset, f"WARC record at byte offset {offset:,} ({uri}): cannot read the "
                                           f"content: {_reason(e)}")
    offset = where()
    if len(data) > max_bytes:
        return Quarantined(source, offset, f"page {uri} at byte offset {offset:,} is over the {max_bytes:,}-byte "
                                           "limit")
    extra = {"http_status": status, "content_type": mime}
    if mime in _HTML_TYPES:
        return page_post(data, source=source, source_row=offset, fmt="warc", captured_at=fetched, url=uri,
                         charset=charset, extra=extra)
    text, encoding = decode_page(data, charset)
    if not text.strip():
        return Quarantined(source, offset, f"text response {uri} at byte offset {offset:,} is empty")
    return RawPost(post_id=uri, text=text, source=source, source_row=offset, source_format="warc",
                   captured_at=fetched, sha256=hashlib.sha256(data).hexdigest(), channel=urlsplit(uri).hostname,
                   url=uri, extra={**extra, "encoding": encoding})
