"""What every post reader yields: posts with provenance, or rows it could not read (quarantined)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class RawPost:
    """One post, message or page as read, before classification; provenance travels with it."""

    post_id: str
    text: str
    source: str  # file path or URL
    source_row: int  # line (JSONL/CSV, 1-based), message index (Telegram), record offset (WARC)
    source_format: str  # jsonl | csv | telegram | html | warc
    captured_at: datetime  # when narcotrace read or fetched it (UTC, naive)
    sha256: str  # of the raw bytes of this row/message/page
    channel: str | None = None
    author: str | None = None
    date: datetime | None = None  # UTC, naive
    url: str | None = None
    links: list[str] = field(default_factory=list)  # hrefs (HTML links, Telegram text_link entities)
    entities: list[dict] = field(default_factory=list)  # Telegram text_entities of kind mention/phone/bank_card/...
    # Reader-specific facts worth keeping (Telegram from_id/forwarded_from, page title, HTTP status).
    extra: dict = field(default_factory=dict)


@dataclass
class Quarantined:
    """A row a reader could not turn into a post, with the reason (it is stored, not dropped)."""

    source: str
    source_row: int
    reason: str
    raw: str = ""

    def row(self) -> tuple[str, int, str, str]:
        """As `Workspace.quarantine` takes it: (source, source_row, reason, raw)."""
        return (self.source, self.source_row, self.reason, self.raw)
