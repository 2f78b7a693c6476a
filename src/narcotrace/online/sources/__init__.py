"""Readers of posts: one module per format, each yielding posts with provenance, or quarantined rows.

`read_posts(paths, fmt)` is what commands call: it walks folders, picks the reader per file, streams
posts and fills a `ReadReport` (the accounting: read = posts + quarantined, per file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from narcotrace.errors import InputError, UserError
from narcotrace.online.sources import csv_, html, jsonl, telegram, warc
from narcotrace.online.sources.accounting import FileReport, ReadReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.detect import FORMATS, sniff_format, walk
from narcotrace.online.sources.textfile import MAX_ROW_BYTES

__all__ = ["FORMATS", "FileReport", "Quarantined", "RawPost", "ReadReport", "file_sha256", "read_posts"]

Reader = Callable[..., Iterator[RawPost | Quarantined]]
READERS: dict[str, Reader] = {
    "jsonl": jsonl.read,
    "csv": csv_.read,
    "telegram": telegram.read,
    "html": html.read,
    "warc": warc.read,
}


def read_posts(paths: Sequence[str | Path], fmt: str = "auto", *, report: ReadReport | None = None,
               max_row_bytes: int = MAX_ROW_BYTES,
               captured_at: datetime | None = None) -> Iterator[RawPost | Quarantined]:
    """Stream posts (or quarantined rows) from files and folders.

    fmt: auto | jsonl | csv | telegram | html | warc. Paths that do not exist raise InputError at once;
    a file that cannot be read at all (empty, binary, unknown format) yields one Quarantined with
    source_row 0 and its FileReport carries the error, so the other files are still read.
    """
    if fmt != "auto" and fmt not in READERS:
        raise UserError(f"--format {fmt}: unknown format; use one of auto, {', '.join(FORMATS)}")
    if not paths:
        raise UserError("no input given: name one or more files or folders")
    for p in paths:
        if not Path(p).exists():
            raise InputError(p, "no such file or folder")
    return _stream([Path(p) for p in paths], fmt, report if report is not None else ReadReport(),
                   max_row_bytes, captured_at)


def _stream(paths: list[Path], fmt: str, report: ReadReport, max_row_bytes: int,
            captured_at: datetime | None) -> Iterator[RawPost | Quarantined]:
    from narcotrace.workspace import utcnow

    for path in paths:
        targets: list[tuple[Path, str | None]]
        if path.is_dir():
            files = list(walk(path, fmt))
            if not any(found for _, found in files):
                fr = report.add(str(path), fmt)
                fr.error = (f"folder has no {'posts' if fmt == 'auto' else fmt} files "
                            f"({len(files)} other files)")
                yield Quarantined(str(path), 0, fr.error)
                continue
            skipped = sum(1 for _, found in files if not found)
            if skipped:
                # Photos and stickers sit beside result.json in a Telegram export folder: not posts.
                fr = report.add(str(path), fmt)
                fr.skipped["files that are not posts (images, other formats)"] = skipped
            targets = [(p, found) for p, found in files if found]
        else:
            targets = [(path, fmt if fmt != "auto" else sniff_format(path))]
        for file, file_fmt in targets:
            if file_fmt is None:
                fr = report.add(str(file), "unknown")
                fr.error = ("unknown format: not JSONL, CSV, a Telegram export, HTML or WARC by its name or "
                            "content; give --format if it is one of them")
                yield Quarantined(str(file), 0, fr.error)
                continue
            fr = report.add(str(file), file_fmt)
            when = captured_at or utcnow()
            for item in READERS[file_fmt](file, fr, captured_at=when, **_limit(file_fmt, max_row_bytes)):
                if isinstance(item, RawPost):
                    fr.posts += 1
                else:
                    fr.quarantined += 1
                yield item


def _limit(fmt: str, max_row_bytes: int) -> dict:
    # Pages are bigger than posts: the page limit applies to HTML and WARC unless the caller lowers it.
    if fmt in ("html", "warc") and max_row_bytes == MAX_ROW_BYTES:
        return {}
    return {"max_row_bytes": max_row_bytes}


def file_sha256(path: str | Path) -> str:
    """sha256 of a whole file, read in 1 MiB pieces (for ingest_log: the same file is not read twice)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
