"""CSV blocklist with the evidence behind every entry: posts, source URLs, capture times, sha256s, reviewers."""

from __future__ import annotations

import csv
from pathlib import Path

from narcotrace.csvsafe import row

COLUMNS = ["kind", "value", "canonical_id", "status", "post_ids", "source_urls", "captured_at", "sha256s",
           "score", "reviewer"]
SEPARATOR = "|"  # between several values in one cell (several posts behind one entry)


def write(entries: list, out: Path, *, proposed: bool) -> int:
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for e in entries:
            w.writerow(row([
                e.kind, e.value, e.canonical_id, e.status,
                SEPARATOR.join(e.post_ids), SEPARATOR.join(e.source_urls),
                SEPARATOR.join(t.isoformat(timespec="seconds") + "Z" if t else "" for t in e.captured_at),
                SEPARATOR.join(e.sha256s), f"{e.score:.4f}", SEPARATOR.join(e.reviewers),
            ]))
    return len(entries)
