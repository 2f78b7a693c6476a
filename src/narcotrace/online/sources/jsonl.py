"""JSONL posts: one JSON object per line (`id`, `text`, optional `url`, `date`, `author`, `channel`); also a
JSON array of such objects (streamed with ijson), since many tools export that."""

from __future__ import annotations

import hashlib
import json

import ijson
import orjson
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from narcotrace.online.sources.accounting import FileReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.fields import clip_raw, field_map, post_from_record
from narcotrace.online.sources.textfile import (MAX_ROW_BYTES, SNIFF_BYTES, decode_line, file_problem, iter_lines,
                                                 sniff_encoding)


def read(path: Path, report: FileReport, *, captured_at: datetime,
         max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[RawPost | Quarantined]:
    source = str(path)
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        problem = file_problem(head, "JSON lines")
        if problem:
            report.error = problem
            yield Quarantined(source, 0, problem)
            return
        enc = sniff_encoding(head)
        report.encoding = enc.label
        if enc.codec == "utf-8" and head[enc.bom:].lstrip().startswith(b"["):
            yield from _read_array(f, enc.bom, source, report, captured_at, max_row_bytes)
            return
        fmap_cache: dict[tuple, dict[str, str]] = {}
        utf8 = enc.codec == "utf-8"  # orjson reads the line's bytes itself: no decoding to str first
        for line in iter_lines(f, enc, max_row_bytes, decode=not utf8):
            if line.error:
                yield Quarantined(source, line.number, line.error, line.raw[:2000].decode(enc.codec, "replace"))
                continue
            record = _UNREAD
            raw_text: str | bytes = line.raw
            if utf8:
                if not line.raw.strip():
                    report.skipped["blank lines"] += 1
                    continue
                try:
                    record = orjson.loads(line.raw)
                except orjson.JSONDecodeError:
                    # not UTF-8, blank but for Unicode spaces, or JSON only json reads: read as a decoded line
                    line.text, line.error = decode_line(line.raw, enc)
                    if line.error:
                        yield Quarantined(source, line.number, line.error, line.raw[:2000].decode(enc.codec, "replace"))
                        continue
            if record is _UNREAD:
                raw_text = text = line.text or ""
                if not text.strip():
                    report.skipped["blank lines"] += 1
                    continue
                try:
                    record = orjson.loads(text)  # ~4x faster than json; what it refuses, json gets a second look at
                except orjson.JSONDecodeError:
                    try:
                        record = json.loads(text)  # NaN, integers over 64 bits
                    except json.JSONDecodeError as e:
                        yield Quarantined(source, line.number, f"not valid JSON: {e.msg} at column {e.colno}",
                                          text[:2000])
                        continue
            if not isinstance(record, dict):
                yield Quarantined(source, line.number,
                                  f"not a JSON object (a {type(record).__name__}); expected {{\"id\", \"text\", ...}}",
                                  clip_raw(raw_text))
                continue
            keys = tuple(record)
            fmap = fmap_cache.get(keys)
            if fmap is None:
                fmap = fmap_cache[keys] = field_map(list(keys))
                if len(fmap_cache) > 256:  # heterogeneous keys: don't grow without bound
                    fmap_cache.clear()
            yield post_from_record(record, fmap, source=source, row=line.number, raw_text=raw_text, fmt="jsonl",
                                   captured_at=captured_at, sha256=hashlib.sha256(line.raw).hexdigest(),
                                   report=report)


_UNREAD = object()  # a line not parsed yet
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _read_array(f, bom: int, source: str, report: FileReport, captured_at: datetime,
                max_row_bytes: int) -> Iterator[RawPost | Quarantined]:
    """A JSON array of post objects; row = position in the array (1-based), sha256 of the canonical JSON."""
    report.encoding = (report.encoding or "UTF-8") + ", JSON array"
    f.seek(bom)
    n = 0
    try:
        for record in ijson.items(f, "item", use_float=True):
            n += 1
            raw = _CANONICAL.encode(record)
            if len(raw) > max_row_bytes:
                yield Quarantined(source, n, f"item is {len(raw):,} bytes, over the {max_row_bytes:,}-byte limit",
                                  raw[:2000])
                continue
            if not isinstance(record, dict):
                yield Quarantined(source, n, f"item is not a JSON object (a {type(record).__name__})", raw[:2000])
                continue
            yield post_from_record(record, field_map(list(record)), source=source, row=n, raw_text=raw,
                                   fmt="jsonl", captured_at=captured_at,
                                   sha256=hashlib.sha256(raw.encode()).hexdigest(), report=report)
    except ijson.JSONError as e:
        yield Quarantined(source, n + 1, f"JSON array broken after item {n} ({e}); the items before it were read")
