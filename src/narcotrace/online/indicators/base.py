"""What every indicator extractor shares: the `Indicator` record and the `Extractor` base class.

Extractors run in a fixed order over one `Scan` of a post; each claims the spans it took, so a later,
looser extractor cannot read the same characters again (a card number is not also a phone, an e-mail
is not also a Telegram handle, a t.me link is not also a web URL).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from narcotrace.online.normalize import CYR2LAT, INVISIBLE

# Characters that hide an indicator from a plain reader of the text: invisible ones, fullwidth and
# mathematical letters and digits ("@ｓｎｏｗ_ｋｚ", "𝟒𝟒𝟎𝟎 ..."). Handles, links, cards and wallets are
# ASCII, so the scan reads them folded; spans are mapped back to the original. (The emoji variation
# selectors U+FE0E/U+FE0F are left alone: they follow emoji rather than hide identifiers.)
_DISGUISED = re.compile("[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0d\ufeff\uffa0\uff01-\uff5e"
                        "\U0001d400-\U0001d7ff]")
# ... and keycap digits, whose marks are dropped: "8️⃣7️⃣0️⃣" reads "870" (a second pattern: the first is a
# single character class, which the engine scans for fastest)
_DISGUISED_OR_KEYCAP = re.compile(_DISGUISED.pattern + "|\ufe0f?\u20e3")


# "@shор_kz" with Cyrillic о and р: handles are ASCII, so look-alikes in a mixed-script @name are read as Latin
_MIXED_MENTION = re.compile(r"@(?=[\w.]*[a-zA-Z])(?=[\w.]*[\u0400-\u04ff])[\w.]+")


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

    __slots__ = ("original", "text", "lower", "_starts", "_ends", "found", "_origin")

    def __init__(self, text: str) -> None:
        self.original = text
        self._origin: list[int] | None = None  # original offset of each scanned character, when folded
        if _DISGUISED.search(text) or "\u20e3" in text:
            text = self._fold(text)
        if "@" in text and not text.isascii():
            text = _MIXED_MENTION.sub(lambda m: m.group().translate(CYR2LAT), text)  # one-to-one: spans hold
        self.text = text
        low = text.lower()
        # str.lower() keeps offsets except for "İ"; keep them so spans stay valid in both
        self.lower = low if len(low) == len(text) else text.replace("İ", "i").lower()
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


class Extractor(ABC):
    """One kind of indicator: finds, validates and normalises it in a post."""

    kind: str

    @abstractmethod
    def extract(self, scan: Scan) -> Iterator[Indicator]:
        """Indicators of this kind in the post, not overlapping spans already claimed."""
