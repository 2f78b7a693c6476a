"""Disguise drug and stash words the way shops do (homoglyphs, с0ль, м.е.ф, мееееф, zero-width, 𝐦𝐞𝐟, mef, ❄️).

Only segments the template marked sensitive (or, for style noise in ordinary posts, plain words) are
touched; contacts and payment details never are. Each call reports the techniques that really changed
the text, named as in the online lexicon's obfuscation tags.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from narcotrace.sim.text import load
from narcotrace.sim.text.grammar import Rand, Seg

TECHNIQUES = ("homoglyph", "digit_sub", "separators", "stretched", "zero_width", "fullwidth", "translit", "emoji")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "L"
    if name.startswith("CYRILLIC"):
        return "C"
    return None


def word_script(word: str) -> str | None:
    scripts = {s for ch in word if (s := _script(ch))}
    return scripts.pop() if len(scripts) == 1 else None


class Obfuscator:
    """Applies evasion techniques to words, from the maps in obfuscation.yaml."""

    def __init__(self) -> None:
        d = load("obfuscation")
        self.c2l: dict[str, str] = d["homoglyph"]["cyr_to_lat"]
        self.l2c: dict[str, str] = d["homoglyph"]["lat_to_cyr"]
        self.dig_c: dict[str, str] = d["digit_sub"]["cyr"]
        self.dig_l: dict[str, str] = d["digit_sub"]["lat"]
        self.seps: list[str] = d["separators"]
        self.stretch = set(d["stretch_letters"])
        self.zw: list[str] = d["zero_width"]
        self.fancy: list[dict[str, int]] = list(d["fancy_alphabets"].values())
        self.translit_map: dict[str, str] = d["translit"]
        self.emoji_words: dict[str, str] = d["emoji_words"]
        self.drug_emoji = {c: v["emoji"] for c, v in load("drugs")["categories"].items()}

    # -- one technique on one word; each returns the new word (unchanged if it does not apply) --------
    def homoglyph(self, w: str, rnd: Rand) -> str:
        table = self.c2l if word_script(w) == "C" else self.l2c
        idx = [i for i, ch in enumerate(w) if ch in table]
        letters = sum(1 for c in w if c.isalpha())
        if not idx or letters < 2:
            return w
        # Keep at least one letter in the word's own script, so the word mixes scripts as real ones do.
        k = min(1 + rnd.below(2), len(idx), letters - 1)
        chars = list(w)
        for i in rnd.sample(idx, k):
            chars[i] = table[chars[i]]
        return "".join(chars)

    def digit_sub(self, w: str, rnd: Rand) -> str:
        table = self.dig_c if word_script(w) == "C" else self.dig_l
        idx = [i for i, ch in enumerate(w) if ch in table]
        if not idx:
            return w
        chars = list(w)
        for i in rnd.sample(idx, 1 + rnd.below(min(2, len(idx)))):
            chars[i] = table[chars[i]]
        return "".join(chars)

    def separators(self, w: str, rnd: Rand) -> str:
        sep = rnd.choice(self.seps)
        if len(w) <= 6 or rnd.chance(0.4):
            return sep.join(w)
        cut = sorted(rnd.sample(range(1, len(w)), 1 + rnd.below(2)))
        parts, prev = [], 0
        for c in cut:
            parts.append(w[prev:c])
            prev = c
        parts.append(w[prev:])
        return sep.join(parts)

    def stretched(self, w: str, rnd: Rand) -> str:
        idx = [i for i, ch in enumerate(w) if ch.lower() in self.stretch]
        if not idx:
            return w
        i = rnd.choice(idx)
        return w[:i + 1] + w[i] * (2 + rnd.below(4)) + w[i + 1:]

    def zero_width(self, w: str, rnd: Rand) -> str:
        chars = list(w)
        for _ in range(1 + rnd.below(2)):
            pos = 1 + rnd.below(max(1, len(chars) - 1))
            chars.insert(pos, rnd.choice(self.zw))
        return "".join(chars)

    def translit(self, w: str, rnd: Rand) -> str:
        if word_script(w) != "C":
            return w
        out = []
        for ch in w:
            t = self.translit_map.get(ch.lower(), ch)
            out.append(t.capitalize() if ch.isupper() and t else t)
        return "".join(out)

    def fullwidth(self, w: str, rnd: Rand, alphabet: dict[str, int] | None = None) -> str:
        alphabet = alphabet or rnd.choice(self.fancy)
        out = []
        for ch in w:
            if "a" <= ch <= "z":
                cp = alphabet["lower"] + ord(ch) - ord("a")
            elif "A" <= ch <= "Z":
                cp = alphabet["upper"] + ord(ch) - ord("A")
            elif "0" <= ch <= "9":
                cp = alphabet["digit"] + ord(ch) - ord("0")
            else:
                out.append(ch)
                continue
            # Some mathematical letters are holes in Unicode (they live in Letterlike Symbols): use fullwidth.
            if not unicodedata.name(chr(cp), ""):
                cp = 0xFF21 + ord(ch.upper()) - ord("A") if ch.isalpha() else 0xFF10 + ord(ch) - ord("0")
                if ch.islower():
                    cp += 0x20
            out.append(chr(cp))
        return "".join(out)

    # -- a whole post ----------------------------------------------------------------------------------
    def apply(self, segs: list[Seg], techniques: Sequence[str], rnd: Rand, rate: float,
              eligible: Callable[[Seg], bool] | None = None, max_words: int = 1000) -> list[str]:
        """Disguise words of eligible segments in place; returns the techniques that changed the text."""
        eligible = eligible or (lambda s: s.entity is None and s.sensitive)
        used: list[str] = []
        budget = [max_words]
        candidates = [s for s in segs if eligible(s)]
        for n, seg in enumerate(candidates):
            if budget[0] <= 0:
                break
            force = not used and n == len(candidates) - 1  # the last chance to disguise at least one word
            if "emoji" in techniques and seg.category and rnd.chance(0.5 if not force else 1.0):
                emo = rnd.choice(self.drug_emoji.get(seg.category, ["💊"]))
                seg.text = emo if rnd.chance(0.6) else f"{emo} {seg.text}"
                _add(used, "emoji")
                budget[0] -= 1
                continue
            seg.text = _WORD.sub(lambda m: self._word(m.group(), techniques, rnd, rate, used, force, budget), seg.text)
        return used

    def _word(self, w: str, techniques: Sequence[str], rnd: Rand, rate: float, used: list[str], force: bool,
              budget: list[int]) -> str:
        if budget[0] <= 0 or not (force or rnd.chance(rate)):
            return w
        budget[0] -= 1
        if "emoji" in techniques and w.lower() in self.emoji_words and rnd.chance(0.5):
            _add(used, "emoji")
            return self.emoji_words[w.lower()] + (w if rnd.chance(0.5) else "")
        order = list(techniques)
        start = rnd.below(len(order))
        for t in order[start:] + order[:start]:
            if t == "emoji":
                continue
            if t == "fullwidth":
                base = w
                if word_script(w) == "C":
                    base = self.translit(w, rnd)
                    if "translit" not in used and base != w:
                        _add(used, "translit")
                new = self.fullwidth(base, rnd)
            else:
                new = getattr(self, t)(w, rnd)
            if new != w:
                _add(used, t)
                return new
        return w


def _add(used: list[str], t: str) -> None:
    if t not in used:
        used.append(t)
