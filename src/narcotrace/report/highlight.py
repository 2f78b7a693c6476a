"""A post's text cut into plain and highlighted pieces: the classifier's explanation spans and the indicators.

The template escapes every piece, so hostile posts stay text; only the <mark> around them is ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str  # "" (plain) | "term" (drove the score) | "indicator" (contact or payment detail)
    note: str = ""


def pieces(text: str, explanation: list[dict[str, Any]], indicator_spans: list[tuple[int, int, str]],
           max_chars: int = 2000) -> list[Piece]:
    """Plain and highlighted pieces of `text` (cut at `max_chars`); indicators win over terms where they overlap."""
    text = text or ""
    cut = text[:max_chars]
    kinds = [""] * len(cut)
    notes: list[str] = [""] * len(cut)
    for item in explanation or []:
        span = item.get("span") if isinstance(item, dict) else None
        if not span or len(span) != 2:
            continue
        start, end = max(0, int(span[0])), min(len(cut), int(span[1]))
        for i in range(start, end):
            kinds[i], notes[i] = "term", str(item.get("feature", ""))
    for start, end, what in indicator_spans:
        for i in range(max(0, start), min(len(cut), end)):
            kinds[i], notes[i] = "indicator", what
    out: list[Piece] = []
    i = 0
    while i < len(cut):
        j = i
        while j < len(cut) and kinds[j] == kinds[i] and notes[j] == notes[i]:
            j += 1
        out.append(Piece(cut[i:j], kinds[i], notes[i]))
        i = j
    if len(text) > max_chars:
        out.append(Piece(f" … ({len(text) - max_chars:,} more characters)", ""))
    return out
