"""Post fields of tabular inputs (JSONL, CSV): column names and their aliases, dates to naive UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from narcotrace.online.sources.base import Quarantined, RawPost

# Column names people actually use for the same thing; the first is the documented one.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "post_id", "message_id", "msg_id", "uid"),
    "text": ("text", "message", "body", "content", "post", "caption"),
    "url": ("url", "link", "permalink", "href"),
    "date": ("date", "datetime", "timestamp", "created_at", "posted_at", "time"),
    "author": ("author", "from", "user", "username", "sender"),
    "channel": ("channel", "chat", "group", "site", "source_channel"),
}


def field_map(keys: list[str]) -> dict[str, str]:
    """Which input key carries each post field (case-insensitive), given the input's keys or header."""
    lowered = {k.strip().lower(): k for k in keys if isinstance(k, str)}
    found: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                found[name] = lowered[alias]
                break
    return found


_EPOCH = re.compile(r"\d{9,13}(\.\d+)?")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_date(value: Any) -> datetime | None:
    """A date as naive UTC from ISO 8601, unix seconds or milliseconds, or dd.mm.yyyy [hh:mm]; None if
    it is not one of those (the post is kept, the accounting counts the unreadable date)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str):
        s = value.strip()
        try:
            # ISO 8601 is by far the most common: try the C parser first.
            dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)
        except ValueError:
            dt = None
        if dt is not None:
            return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo is not None else dt
        if _EPOCH.fullmatch(s):
            return _from_epoch(float(s))
        m = _DMY.match(s)
        if m:
            d, mo, y, hh, mm, ss = m.groups()
            try:
                return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            except ValueError:
                return None
        return None
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    return None


def _from_epoch(seconds: float) -> datetime | None:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def as_text(value: Any) -> str | None:
    """An optional field as text: numbers become strings, blanks become None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def clip_raw(raw_text: str | bytes) -> str:
    """The first 2,000 characters of a row as read (text, or UTF-8 bytes), for the quarantine."""
    return raw_text[:2000] if isinstance(raw_text, str) else raw_text[:8000].decode("utf-8", "replace")[:2000]


def post_from_record(record: dict, fmap: dict[str, str], *, source: str, row: int, raw_text: str | bytes, fmt: str,
                     captured_at: datetime, sha256: str, report: Any) -> Any:
    """A RawPost from one JSONL object or CSV row, or a Quarantined saying which field is wrong (with the row
    as read: `raw_text`, text or UTF-8 bytes, decoded only then)."""
    if "text" not in fmap:
        return Quarantined(source, row, "no text field (expected one of: " + ", ".join(ALIASES["text"]) + ")",
                           clip_raw(raw_text))
    text = record.get(fmap["text"])
    if text is None:
        return Quarantined(source, row, f"field '{fmap['text']}' is null", clip_raw(raw_text))
    if not isinstance(text, str):
        return Quarantined(source, row, f"field '{fmap['text']}' is a {type(text).__name__}, expected text",
                           clip_raw(raw_text))
    if not text.strip():
        return Quarantined(source, row, f"field '{fmap['text']}' is empty", clip_raw(raw_text))
    post_id = as_text(record.get(fmap["id"])) if "id" in fmap else None
    if post_id is None:
        post_id = f"{source.rsplit('/', 1)[-1]}:{row}"
    date = None
    if "date" in fmap and record.get(fmap["date"]) not in (None, ""):
        date = parse_date(record.get(fmap["date"]))
        if date is None:
            report.warnings["posts with an unreadable date (kept without it)"] += 1
    return RawPost(
        post_id=post_id, text=text, source=source, source_row=row, source_format=fmt,
        captured_at=captured_at, sha256=sha256,
        channel=as_text(record.get(fmap["channel"])) if "channel" in fmap else None,
        author=as_text(record.get(fmap["author"])) if "author" in fmap else None,
        date=date,
        url=as_text(record.get(fmap["url"])) if "url" in fmap else None,
    )
