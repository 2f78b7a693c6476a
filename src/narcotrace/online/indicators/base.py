"""What every indicator extractor shares: the `Indicator` record and the `Extractor` base class.

Extractors run in a fixed order over one `Scan` of a post; each claims the spans it took, so a later,
looser extractor cannot read the same characters again (a card number is not also a phone, an e-mail
is not also a Telegram handle, a t.me link is not also a web URL).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import sys
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from narcotrace.online.indicators.hints import DISGUISED, DISGUISED_CHARS, hints
from narcotrace.online.normalize import CYR2LAT, INVISIBLE

# Handles, links, cards and wallets are ASCII, so the scan reads disguised characters (hints.DISGUISED_CHARS:
# invisible, fullwidth and mathematical ones) folded, and keycap digits without their marks: "8️⃣7️⃣0️⃣" reads
# "870"; spans are mapped back to the original.
_DISGUISED_OR_KEYCAP = re.compile(DISGUISED_CHARS.pattern + "|\ufe0f?\u20e3")


# "@shор_kz" with Cyrillic о and р: handles are ASCII, so look-alikes in a mixed-script @name are read as Latin
_MIXED_MENTION = re.compile(r"@(?=[\w.]*[a-zA-Z])(?=[\w.]*[\u0400-\u04ff])[\w.]+")


@dataclass(slots=True)
class Indicator:
    """A validated, normalised contact or payment indicator found in a post.

    Not frozen, but treated as a value (dataclasses.replace makes changed copies): a frozen dataclass
    sets each field through object.__setattr__, which made every indicator cost ~2 µs more to build.

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


def _lower(text: str) -> str:
    """text.lower(), with the offsets of text: str.lower() keeps them except for "İ" (two characters)."""
    low = text.lower()
    return low if len(low) == len(text) else text.replace("İ", "i").lower()


class Scan:
    """One post being scanned: its text, a lower-case copy, the spans already claimed, and `hints`: the
    bits of the extractors' first tests (narcotrace.online.indicators.hints)."""

    __slots__ = ("original", "text", "lower", "hints", "_starts", "_ends", "found", "_origin")

    def __init__(self, text: str) -> None:
        self.original = text
        self._origin: list[int] | None = None  # original offset of each scanned character, when folded
        low = _lower(text)
        bits = hints(text, low)
        read = text
        if bits & DISGUISED:
            read = self._fold(read)
        if "@" in read and not read.isascii():
            read = _MIXED_MENTION.sub(lambda m: m.group().translate(CYR2LAT), read)  # one-to-one: spans hold
        if read != text:
            text, low = read, _lower(read)
            bits = hints(text, low)
        self.text = text
        self.lower = low
        self.hints = bits
        self._starts: list[int] = []
        self._ends: list[int] = []
        self.found: list[Indicator] = []

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

    def _fold(self, text: str) -> str:
        pieces: list[str] = []
        origin: list[int] = []
        pos = 0
        for m in _DISGUISED_OR_KEYCAP.finditer(text):
            i = m.start()
            pieces.append(text[pos:i])
            origin.extend(range(pos, i))
            pos = m.end()
            if pos - i > 1 or text[i] == "\u20e3":
                continue  # the keycap mark after a digit (with its variation selector): dropped
            ch = text[i]
            if ord(ch) in INVISIBLE:
                continue
            folded = unicodedata.normalize("NFKC", ch)
            pieces.append(folded if len(folded) == 1 else ch)
            origin.append(i)
        pieces.append(text[pos:])
        origin.extend(range(pos, len(text) + 1))
        self._origin = origin
        return "".join(pieces)

    def add(self, ind: Indicator, claim: bool = True) -> None:
        if claim and ind.start >= 0:
            self.claim(ind.start, ind.end)
        if self.text is not self.original and ind.start >= 0:  # read from a folded copy: map back
            start, end = ind.start, ind.end
            if self._origin is not None:
                start = self._origin[ind.start]
                end = self._origin[ind.end - 1] + 1 if ind.end > ind.start else start
            if self.original[start:end] != self.text[ind.start:ind.end]:
                ind = dataclasses.replace(ind, start=start, end=end, details={**ind.details, "disguised": True})
            elif (start, end) != (ind.start, ind.end):
                ind = dataclasses.replace(ind, start=start, end=end)
        self.found.append(ind)


class KeyedPattern:
    """A pattern searched in the short window before (or after) a candidate, tried only when the window holds
    one of `keys`: substrings that every match of the pattern contains. Such patterns end in "$" and start with
    alternatives and look-behinds, so the engine tries them at every position of the window (2-3 µs a search);
    a literal alternation rules out most windows for a third of that. The answers are the pattern's own
    (tests/online/test_indicators.py checks the keys against random windows)."""

    __slots__ = ("pattern", "keys")

    def __init__(self, pattern: str, keys: Iterable[str]) -> None:
        self.pattern = re.compile(pattern)
        self.keys = re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self.keys.search(text, pos, endpos) is None:
            return None
        return self.pattern.search(text, pos, endpos)


class Extractor(ABC):
    """One kind of indicator: finds, validates and normalises it in a post."""

    kind: str
    # Bits of `Scan.hints` (indicators.hints) of which every post holding an indicator of this kind has one: the
    # scan calls `extract` only for posts with one of them (0: for every post), so an extractor does not test its
    # gate again. Calling a generator that finds nothing cost ~0.6 µs, paid by eleven extractors on every post.
    gate: int = 0

    @abstractmethod
    def extract(self, scan: Scan) -> Iterator[Indicator]:
        """Indicators of this kind in the post, not overlapping spans already claimed."""
