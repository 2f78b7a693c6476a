"""CSV posts with a header row (`id`, `text`, optional `url`, `date`, `author`, `channel`); `,;\\t|` separated."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from narcotrace.online.sources.accounting import FileReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.fields import ALIASES, field_map, post_from_record
from narcotrace.online.sources.textfile import (
    MAX_ROW_BYTES,
    SNIFF_BYTES,
    Line,
    file_problem,
    iter_lines,
    sniff_encoding,
)


class _Lines:
    """Feeds decoded lines to csv.reader and remembers which physical lines (and bytes) made each record,
    since a quoted field may span lines; lines it cannot decode or that are too long are set aside."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self._lines = lines
        self.consumed: list[Line] = []
        self.bad: list[Line] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        for line in self._lines:
            if line.error:
                self.bad.append(line)
                continue
            self.consumed.append(line)
            return (line.text or "") + "\n"
        raise StopIteration

    def take(self) -> tuple[int, bytes]:
        """First line number and raw bytes of the record just parsed."""
        lines, self.consumed = self.consumed, []
        if not lines:
            return 0, b""
        return lines[0].number, b"\n".join(line.raw for line in lines)


class _Dialect(csv.excel):
    """RFC 4180 quoting (doubled quotes) with the sniffed separator: the sniffer guesses quoting badly."""


def _dialect(sample: str) -> type[csv.Dialect]:
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return type("_Sniffed", (_Dialect,), {"delimiter": delimiter})


def read(path: Path, report: FileReport, *, captured_at: datetime,
         max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[RawPost | Quarantined]:
    source = str(path)
    csv.field_size_limit(max(max_row_bytes, 131072))
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        problem = file_problem(head, "CSV rows")
        if problem:
            report.error = problem
            yield Quarantined(source, 0, problem)
            return
        enc = sniff_encoding(head)
        report.encoding = enc.label
        sample = head[enc.bom:].decode(enc.codec, "ignore")
        sample = sample[: sample.rfind("\n")] if "\n" in sample else sample
        dialect = _dialect(sample)
        feed = _Lines(iter_lines(f, enc, max_row_bytes))
        reader = csv.reader(feed, dialect)
        header: list[str] | None = None
        fmap: dict[str, str] = {}
        while True:
            row: list[str] | None = None
            error: csv.Error | None = None
            try:
                row = next(reader)
            except StopIteration:
                pass
            except csv.Error as e:
                error = e
            for bad in feed.bad:
                yield Quarantined(source, bad.number, bad.error or "unreadable line")
            feed.bad.clear()
            if error is not None:
                number, raw = feed.take()
                yield Quarantined(source, number or reader.line_num, f"malformed CSV: {error}",
                                  raw[:2000].decode(enc.codec, "replace"))
                continue
            if row is None:
                break
            number, raw = feed.take()
            if header is None:
                header = [h.strip().lstrip("\ufeff") for h in row]
                fmap = field_map(header)
                if "text" not in fmap:
                    report.error = (f"header row {header!r} has no text column; name it one of: "
                                    + ", ".join(ALIASES["text"]))
                    yield Quarantined(source, number, report.error)
                    return
                continue
            if not any(cell.strip() for cell in row):
                report.skipped["blank lines"] += 1
                continue
            if len(row) != len(header):
                yield Quarantined(source, number, f"row has {len(row)} fields, the header has {len(header)}",
                                  raw[:2000].decode(enc.codec, "replace"))
                continue
            record = dict(zip(header, row, strict=True))
            yield post_from_record(record, fmap, source=source, row=number, raw_text=raw[:2000].decode(enc.codec, "replace"), fmt="csv",
                                   captured_at=captured_at, sha256=hashlib.sha256(raw).hexdigest(), report=report)
        if header is None:
            report.error = "no header row: expected a first row naming the columns (id, text, ...)"
            yield Quarantined(source, 0, report.error)
