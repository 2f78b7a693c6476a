"""Expand post templates into text segments: random slots and alternatives, with contacts kept apart.

A template is a string with `{slot}` (expand a slot), `{?slot}` (half of the time), `{^slot}`
(capitalised), `{SLOT}` (upper-cased) and `[a|b|]` (one alternative; empty means nothing). The output is
a list of `Seg`: plain text, sensitive text (drug and stash words an obfuscator may disguise) and
entities (mentions, links, phones, cards, wallets) that carry their ground-truth indicator and are never
altered afterwards, so every indicator in the truth occurs verbatim in the post.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_ALT = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
_SLOT = re.compile(r"\{([?^]*)([A-Za-z_0-9]+)\}")
LANGS = ("ru", "kk", "en")


class Rand:
    """Fast draws from a numpy Generator: floats are pulled in blocks so the result stays seed-determined."""

    def __init__(self, rng: np.random.Generator, block: int = 8192) -> None:
        self.rng = rng
        self._block = block
        self._buf: list[float] = []
        self._i = 0

    def random(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self.rng.random(self._block).tolist()
            self._i = 0
        x = self._buf[self._i]
        self._i += 1
        return x

    def below(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[self.below(len(seq))]

    def weighted(self, items: Sequence[Any], weights: Sequence[float]) -> Any:
        total = sum(weights)
        x = self.random() * total
        for item, w in zip(items, weights):
            x -= w
            if x < 0:
                return item
        return items[-1]

    def sample(self, seq: Sequence[Any], k: int) -> list[Any]:
        pool = list(seq)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(self.below(len(pool))))
        return out

    def between(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.random()


@dataclass
class Seg:
    """A piece of a post: plain text, a sensitive word, or an entity (mention, link, phone, card, ...)."""

    text: str
    entity: str | None = None  # Telegram entity type: mention, link, phone, bank_card, email, ...
    href: str | None = None
    sensitive: bool = False
    category: str | None = None  # drug category of a drug-name segment
    indicators: list[dict] = field(default_factory=list)


Slot = Callable[[str], "list[Seg] | str"]


class Grammar:
    """Expands templates in one language (or a mix) from data slots and the caller's context slots."""

    def __init__(self, slots: dict[str, Any], sensitive: Sequence[str] = (), fallback: dict[str, Any] | None = None):
        self.slots = slots
        self.sensitive = set(sensitive)
        self.fallback = fallback or {}

    def expand(self, template: str, lang: str, rnd: Rand, ctx: dict[str, Any],
               mix: Sequence[str] = ("ru", "en"), sensitive: bool = False, depth: int = 0) -> list[Seg]:
        if depth > 12:
            raise ValueError(f"template recursion too deep at {template!r}")
        while True:  # innermost alternatives first, so [a|[b|c]] style nesting works
            m = _ALT.search(template)
            if not m:
                break
            template = template[:m.start()] + rnd.choice(m.group(1).split("|")) + template[m.end():]
        out: list[Seg] = []
        pos = 0
        for m in _SLOT.finditer(template):
            if m.start() > pos:
                out.append(Seg(template[pos:m.start()], sensitive=sensitive))
            pos = m.end()
            flags, name = m.group(1), m.group(2)
            if "?" in flags and rnd.chance(0.5):
                continue
            upper = name.isupper() and len(name) > 1
            segs = self.slot(name.lower() if upper else name, lang, rnd, ctx, mix, sensitive, depth)
            if upper:
                for s in segs:
                    if s.entity is None:
                        s.text = s.text.upper()
            elif "^" in flags:
                for s in segs:
                    if s.text.strip():
                        if s.entity is None:
                            s.text = _capitalise(s.text)
                        break
            out.extend(segs)
        if pos < len(template):
            out.append(Seg(template[pos:], sensitive=sensitive))
        return out

    def slot(self, name: str, lang: str, rnd: Rand, ctx: dict[str, Any], mix: Sequence[str],
             sensitive: bool, depth: int) -> list[Seg]:
        sens = sensitive or name in self.sensitive
        value = ctx.get(name)
        if value is not None:
            if callable(value):
                value = value(lang)
            if isinstance(value, str):
                return [Seg(value, sensitive=sens)]
            segs = list(value)
            if sens:
                for s in segs:
                    if s.entity is None:
                        s.sensitive = True
            return segs
        options = self.slots.get(name)
        if options is None:
            options = self.fallback.get(name)
        if options is None:
            raise KeyError(f"unknown template slot {{{name}}}")
        if isinstance(options, list):
            return self.expand(rnd.choice(options), lang, rnd, ctx, mix, sens, depth + 1)
        # A mixed-language post switches language from one slot to the next, as code-mixing writers do.
        sub = rnd.choice(mix) if lang == "mixed" else lang
        return self.expand(rnd.choice(pick_lang(options, sub)), sub, rnd, ctx, mix, sens, depth + 1)


def pick_lang(options: dict[str, Any], lang: str) -> list:
    for key in (lang, "any", "ru"):
        if key in options:
            return options[key]
    return next(iter(options.values()))


def _capitalise(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def join(parts: list[list[Seg]], sep: str) -> list[Seg]:
    out: list[Seg] = []
    for i, p in enumerate(parts):
        if i:
            out.append(Seg(sep))
        out.extend(p)
    return out


def plain(segs: list[Seg]) -> str:
    return "".join(s.text for s in segs)


def options_for(block: dict[str, Any], lang: str, rnd: Rand, langs: Sequence[str]) -> list:
    """A block's templates in a language (a mixed post picks one of its languages; `any` and ru as fallback)."""
    if lang == "mixed":
        lang = rnd.choice(langs)
    return block.get(lang) or block.get("any") or block["ru"]
