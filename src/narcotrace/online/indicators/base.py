"""What every indicator extractor shares: the `Indicator` record and the `Extractor` base class.

Extractors run in a fixed order over one `Scan` of a post; each claims the spans it took, so a later,
looser extractor cannot read the same characters again (a card number is not also a phone, an e-mail
is not also a Telegram handle, a t.me link is not also a web URL).
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Indicator:
    """A validated, normalised contact or payment indicator found in a post.

    `start`/`end` are offsets in the original text, or -1 when it came only from metadata (a Telegram
    entity or an HTML link whose text is not in the post).
    """

    kind: str  # telegram | url | domain | onion | email | phone | card | iban | crypto
    value: str  # normalised: handle lower-case without @, E.164 phone, card digits, ...
    canonical_id: str  # narcotrace.identifiers form, shared with the money pillar
    chain: str | None = None  # btc | eth | tron | ltc | xmr for crypto
    start: int = -1
    end: int = -1
    details: dict = field(default_factory=dict)


class Scan:
    """One post being scanned: its text, a lower-case copy, and the spans already claimed."""

    __slots__ = ("text", "lower", "_starts", "_ends", "found", "entities", "links")

    def __init__(self, text: str, entities: list[dict] | None = None, links: list[str] | None = None) -> None:
        self.text = text
        low = text.lower()
        # str.lower() keeps offsets except for "İ"; keep them so spans stay valid in both
        self.lower = low if len(low) == len(text) else text.replace("İ", "i").lower()
        self._starts: list[int] = []
        self._ends: list[int] = []
        self.found: list[Indicator] = []
        self.entities = entities or []
        self.links = links or []

    def free(self, start: int, end: int) -> bool:
        """Whether no claimed span overlaps [start, end)."""
        i = bisect.bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return False
        return not (i < len(self._starts) and self._starts[i] < end)

    def free_segments(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) that no claimed span covers."""
        out = []
        pos = start
        for s, e in zip(self._starts, self._ends):
            if e <= pos or s >= end:
                continue
            if s > pos:
                out.append((pos, s))
            pos = max(pos, e)
        if pos < end:
            out.append((pos, end))
        return out

    def claim(self, start: int, end: int) -> None:
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)

    def add(self, ind: Indicator, claim: bool = True) -> None:
        self.found.append(ind)
        if claim and ind.start >= 0:
            self.claim(ind.start, ind.end)

    def locate(self, needle: str) -> tuple[int, int]:
        """Where metadata text (an entity, a link) appears in the post, or (-1, -1)."""
        if not needle:
            return -1, -1
        i = self.text.find(needle)
        return (i, i + len(needle)) if i >= 0 else (-1, -1)


class Extractor(ABC):
    """One kind of indicator: finds, validates and normalises it in a post."""

    kind: str

    @abstractmethod
    def extract(self, scan: Scan) -> Iterator[Indicator]:
        """Indicators of this kind in the post, not overlapping spans already claimed."""
