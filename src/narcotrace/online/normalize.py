"""Normalise post text against evasion (homoglyphs, leetspeak, separators, emoji codes) for matching.

`normalize(text)` returns a `Normalized`: the original, the normalised `.text` that the lexicon and the
classifier read, the evasion techniques seen (`.flags`), and `.to_original(start, end)` to map a span of
`.text` back to the original for highlighting.

Steps, in order (each is one precompiled regex pass; Python code runs only per match, so plain text
costs a few C-level scans; a pass that changes lengths keeps its edit list, from which `to_original`
works spans back on demand):

1. non-ASCII, non-Cyrillic runs: mapped emoji become " emj_<meaning> " (lexicon/emoji.yaml),
   zero-width / invisible characters are dropped, everything else is NFKC-normalised (fullwidth and
   mathematical letters fold to plain ones, combining accents compose);
2. lower case, ё -> е, accented Latin letters to their base letter (Kazakh Latin "baǵasy" -> "bagasy");
3. single letters split by one repeated separator are joined ("м.е.ф", "к л а д", "m-e-f" -> "меф"),
   and marks with no use inside a Cyrillic word are dropped ("зак*ладки", "меф_едрон");
4. "@" between letters -> a ("з@кладки");
5. words mixing Latin and Cyrillic letters take their dominant script (UTS #39 confusables,
   lexicon/confusables.yaml) when the odd letters are single look-alikes ("мeф", "ЗAKЛAДKИ"; not
   "наркоshop"), and digits inside words become letters ("с0ль", "m3f", "3акладки"), while numbers,
   prices, quantities ("5г"), phones, wallet addresses and @handles stay as they are;
6. a letter repeated 3+ times becomes one ("мееееф" -> "меф"; "ссылка", "класс" keep their doubles,
   "СССР" and "www" their triples).

`.translit` is a second view, built on first access: `.text` with every Latin word transliterated to
Cyrillic ("zakladki" -> "закладки", "mef" -> "меф"). The lexicon does not need it (it matches Latin
spellings of its Cyrillic terms directly in `.text` and adds the flag "translit" when one matches); it is
there for features and for people reading the output.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import cached_property
from pathlib import Path

import yaml

from narcotrace.textcore import KERNELS

NORMALIZER_VERSION = "2"  # 2: marks left after NFKC dropped (stress marks)

_DATA = Path(__file__).parent / "lexicon"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FLAGS = ("homoglyph", "digit_sub", "separators", "zero_width", "fullwidth", "stretched", "translit", "emoji")

# ---- data tables -------------------------------------------------------------------------------


def _load_emoji() -> dict[str, str]:
    data = yaml.load((_DATA / "emoji.yaml").read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    table: dict[str, str] = {}
    for entry in data["emoji"]:
        table[unicodedata.normalize("NFC", entry["char"])] = entry["token"]
    return table


# Cyrillic letters of other languages (Macedonian, Serbian, Abkhaz...): a Latin look-alike inside a Russian or
# Kazakh word never stands for them.
_NOT_RU_KK = frozenset("ѕјԁԛԝӏ")


def _load_confusables() -> tuple[dict[int, str], dict[int, str]]:
    data = yaml.load((_DATA / "confusables.yaml").read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    cyr2lat: dict[int, str] = {}
    lat2cyr: dict[int, str] = {}
    for cyr, lat in data["pairs"]:
        cyr2lat[ord(cyr)] = lat
        if cyr not in _NOT_RU_KK:
            lat2cyr.setdefault(ord(lat), cyr)
    for lat, cyr in data.get("latin_in_cyrillic_words", []):
        lat2cyr.setdefault(ord(lat), cyr)
    return cyr2lat, lat2cyr


EMOJI = _load_emoji()
_EMOJI_PAIRS = {k for k in EMOJI if len(k) == 2}
CYR2LAT, LAT2CYR = _load_confusables()

# Dropped without a trace by renderers, so ad writers use them to split words (and readers don't see them).
_INVISIBLE = frozenset(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFEFF, 0xFFA0]
    + list(range(0x180B, 0x180F)) + list(range(0x200B, 0x2010)) + list(range(0x202A, 0x202F))
    + list(range(0x2060, 0x2065)) + list(range(0x2066, 0x2070)) + list(range(0xFE00, 0xFE10))
    + list(range(0x1D173, 0x1D17B)) + list(range(0xE0000, 0xE0080))
)
INVISIBLE = _INVISIBLE  # shared with the indicator scan, which drops the same characters

# Variation selectors and the joiner are part of ordinary emoji, so removing them is not an evasion sign.
_EMOJI_GLUE = frozenset([0xFE0E, 0xFE0F, 0x200D])


def _is_fancy_letter(cp: int) -> bool:
    """Fullwidth, mathematical, enclosed and letter-like forms used to dodge keyword filters."""
    return (0xFF01 <= cp <= 0xFF5E or 0x1D400 <= cp <= 0x1D7FF or 0x2460 <= cp <= 0x24FF
            or 0x1F130 <= cp <= 0x1F189 or 0x2100 <= cp <= 0x214F)


_CYR_LETTERS = "\u0400-\u04ff"
_LAT_LETTERS = "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f"
_CYR = re.compile(f"[{_CYR_LETTERS}]")
_LAT = re.compile(f"[{_LAT_LETTERS}]")
_CYR_SET = frozenset(chr(c) for c in range(0x0400, 0x0500) if chr(c).isalpha())
_LAT_SET = frozenset(chr(c) for c in range(0x20, 0x250) if chr(c).isalpha() and chr(c) not in "ªº")

# ---- regexes -----------------------------------------------------------------------------------

# Each pass first finds candidates with a pattern that starts on a rare character class (the regex engine
# then skips most positions in C) and does the per-word work in Python only around those candidates.
# Runs of characters outside ASCII and Cyrillic. (A letter before a combining mark belongs to the run too,
# "и" + U+0306 is "й"; exotic() adds it, since a pattern that could start on any letter would make the
# engine try every position instead of skipping to the next exotic character.)
# Patterns run over whole texts begin with a single character class ("XX*" for "X+", "XX{2}" for "X{3}"):
# CPython's engine then skips to candidate characters in C instead of trying the pattern at every position.
_EXOTIC = re.compile(r"[^\x00-\x7f\u0400-\u04ff][^\x00-\x7f\u0400-\u04ff]*")
_EXOTIC_CHECK = re.compile(r"[^\x00-\x7f\u0400-\u04ff]")
# Kazakh Latin (2018/2021 alphabets: ä ǵ ı ń ó ú ý ş ...) and other accented Latin letters fold to their base
# letter, so "baǵasy", "teńge", "tólem" match the lexicon's plain Latin spellings ("bagasy", "tenge").
_ACCENTED_LATIN = re.compile("[\u00df-\u00ff\u0100-\u024f]")
_FOLD_LATIN = {
    cp: base for cp in range(0xDF, 0x250)
    if (base := unicodedata.normalize("NFKD", chr(cp))[0]) != chr(cp) and base.isascii() and base.isalpha()
}
_FOLD_LATIN.update({ord("ı"): "i", ord("ß"): "s", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l", ord("ħ"): "h"})
_SEPS = r"[ .\-_*·•|/\\~+,:'\"]"
# two one-letter words after the same separator: " л а" in "к л а д"
_SEP_PAIR = re.compile(rf"({_SEPS}{_SEPS}{{0,2}})[^\W_]\1[^\W_](?![^\W_])")
# Inside a Cyrillic word these marks have no ordinary use ("зак*ладки", "меф_едрон"); dots and hyphens do.
_SPLIT_MARK = re.compile(r"[*_·•|~][*_·•|~]*")
_AT = re.compile("@")
_EMAILISH_AFTER = re.compile(r"[\w.-]*\.[a-z]{2,}")
_DIGIT_NEXT_TO_LETTER = re.compile(r"[0-9](?:(?<=[^\W\d_][0-9])|(?=[^\W\d_]))")
_LATIN_NEXT_TO_CYRILLIC = re.compile(rf"[a-z](?:(?<=[{_CYR_LETTERS}][a-z])|(?=[{_CYR_LETTERS}]))")
_LATIN_RUN3 = re.compile(f"[{_LAT_LETTERS}][{_LAT_LETTERS}]{{2}}")
_CYRILLIC_RUN3 = re.compile(f"[{_CYR_LETTERS}][{_CYR_LETTERS}]{{2}}")
# Words with digits that are not leetspeak: "15000тг", "5г", "covid19", "24ч".
_PLAIN_NUMBER_WORD = re.compile(r"\d{2,}[^\W\d_]*|\d[^\W\d_]{0,3}|[^\W\d_]+\d+")
_ALNUM_RUN = re.compile(r"[^\W_]*")
# Words that really have a letter three times in a row.
_REAL_TRIPLES = frozenset(["ссср", "www", "iii", "xxx", "xxl", "xxxl", "xxxxl", "xxs", "xxxs", "zzz"])
_REPEAT3 = re.compile(r"(.)\1\1")  # squash() takes the rest of the run: cheaper to scan for
_DIGIT_RUNS = re.compile(r"\d\d*")
_LATIN_WORD = re.compile(rf"\bemj_\w+|[{_LAT_LETTERS}]+(?:'[{_LAT_LETTERS}]*)?")

_DIGIT_LAT = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"}
_DIGIT_CYR = {"0": "о", "4": "ч", "6": "б"}  # "3" is з or е, decided by its neighbours
_CYR_VOWELS = frozenset("аеёиоуыэюяәіөұү")
# A leading digit glued to a unit or count is a quantity ("3грамма", "2штуки"), not leetspeak.
_UNIT_STEMS = ("гр", "грам", "шт", "тыс", "кг", "мг", "мл", "мин", "час", "дн", "ден", "км", "тенг", "тг", "руб",
               "мес", "лет", "год", "раз", "сек", "сут", "комн", "этаж", "кл", "ч", "ми", "gr", "gram", "pcs", "min",
               "hour", "day", "week", "th", "st", "nd", "rd", "kg", "mg", "ml", "usd", "eur", "kzt", "rub")


# ---- the result ----------------------------------------------------------------------------------


class Normalized:
    """A post's text normalised for matching, with the evasion flags and a map back to the original."""

    __slots__ = ("original", "text", "flags", "_stages", "__dict__")

    def __init__(self, original: str, text: str, flags: set[str], stages: list[_Stage] | None = None) -> None:
        self.original = original
        self.text = text
        self.flags = flags
        self._stages = stages or []  # the edits of each pass that changed the text, in order

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `.text[start:end]` came from."""
        if not self._stages:
            return start, end
        if end <= start:  # an empty span: map its position as the start of the next character
            if start >= len(self.text):
                return len(self.original), len(self.original)
            lo = start
            for stage in reversed(self._stages):
                lo = stage.back(lo)[0]
            return lo, lo
        lo, hi = start, end - 1
        for stage in reversed(self._stages):
            lo = stage.back(lo)[0]
            hi = stage.back(hi)[1] - 1
        return lo, hi + 1

    @cached_property
    def translit(self) -> str:
        """`.text` with Latin words transliterated to Cyrillic (mef -> меф, zakladki -> закладки)."""
        return _LATIN_WORD.sub(_translit_match, self.text)

    def __repr__(self) -> str:
        return f"Normalized(text={self.text!r}, flags={sorted(self.flags)})"


class _Stage:
    """The edits one pass made, enough to map a character of its output back to its input.

    Kept instead of a per-character offset array so that normalising costs nothing extra; the mapping is
    worked out only when someone asks for it (highlighting).
    """

    __slots__ = ("edits", "out_starts", "deltas")

    def __init__(self, edits: list[tuple[int, int, str]]) -> None:
        self.edits = edits
        self.out_starts: list[int] = []
        self.deltas: list[int] = []  # output minus input offset after each edit
        delta = 0
        for s, e, r in edits:
            self.out_starts.append(s + delta)
            delta += len(r) - (e - s)
            self.deltas.append(delta)

    def back(self, p: int) -> tuple[int, int]:
        """The input span that output character p came from."""
        i = bisect.bisect_right(self.out_starts, p) - 1
        if i < 0:
            return p, p + 1
        s, e, r = self.edits[i]
        offset = p - self.out_starts[i]
        if offset < len(r):
            if len(r) == e - s:
                return s + offset, s + offset + 1
            return s, e
        q = p - self.deltas[i]
        return q, q + 1


# ---- the passes ----------------------------------------------------------------------------------


# Runs of non-ASCII, non-Cyrillic characters repeat a lot (₸, «», emoji sequences): their folding is cached.
_RUN_CACHE: dict[str, tuple[tuple[tuple[int, int, str], ...], frozenset[str], bool]] = {}


def _fold_run(run: str, text: str, base: int) -> tuple[tuple[tuple[int, int, str], ...], frozenset[str], bool]:
    """Edits (relative to the run), evasion flags, and whether the result depended on the text around it."""
    edits: list[tuple[int, int, str]] = []
    flags: set[str] = set()
    context = False
    i = 0
    n = len(run)
    while i < n:
        ch = run[i]
        cp = ord(ch)
        pair = run[i:i + 2]
        if pair in _EMOJI_PAIRS:
            edits.append((i, i + 2, f" {EMOJI[pair]} "))
            flags.add("emoji")
            i += 2
            continue
        token = EMOJI.get(ch)
        if token is not None:
            edits.append((i, i + 1, f" {token} "))
            flags.add("emoji")
            i += 1
            continue
        if cp in _INVISIBLE:
            if cp == 0x200D:
                context = True
            if cp not in _EMOJI_GLUE or (cp == 0x200D and _between_letters(text, base + i)):
                flags.add("zero_width")
            edits.append((i, i + 1, ""))
            i += 1
            continue
        j = i + 1
        while j < n and unicodedata.combining(run[j]):
            j += 1
        cluster = run[i:j]
        folded = unicodedata.normalize("NFKC", cluster)
        if j > i + 1 and len(folded) > 1 and folded[0].isalpha():
            # marks left over after composing ("мефедро\u0301н": a stress mark, or one slipped in to break
            # a keyword filter) are dropped; "и\u0306" and "е\u0308" composed to "й" and "ё" above
            folded = "".join(c for c in folded if not unicodedata.combining(c))
        if folded != cluster:
            if _is_fancy_letter(cp) and len(folded) == 1 and folded.isalnum():
                flags.add("fullwidth")
            edits.append((i, j, folded))
        i = j
    return tuple(edits), frozenset(flags), context


class _Pass:
    """Text being normalised, the edits made so far, and the evasion flags seen."""

    __slots__ = ("text", "stages", "flags", "cyr_bias")

    def __init__(self, text: str) -> None:
        self.text = text
        self.stages: list[_Stage] = []
        self.flags: set[str] = set()
        self.cyr_bias: bool | None = None

    def apply(self, rx: re.Pattern[str], repl) -> None:
        """Replace each match of `rx` by repl(match) (None = keep)."""
        edits = []
        for m in rx.finditer(self.text):
            r = repl(m)
            if r is not None:
                edits.append((m.start(), m.end(), r))
        if edits:
            self.edit(edits)

    def edit(self, edits: list[tuple[int, int, str]]) -> None:
        """Apply sorted, non-overlapping (start, end, replacement) edits and remember them."""
        text = self.text
        pieces: list[str] = []
        pos = 0
        for s, e, r in edits:
            pieces.append(text[pos:s])
            pieces.append(r)
            pos = e
        pieces.append(text[pos:])
        self.text = "".join(pieces)
        if any(len(r) != e - s for s, e, r in edits):
            self.stages.append(_Stage(edits))  # same-length edits keep offsets as they are

    # -- step 1
    def exotic(self) -> None:
        edits: list[tuple[int, int, str]] = []
        text = self.text
        cache = _RUN_CACHE
        if KERNELS is not None:
            flat = KERNELS.exotic_runs(text)
            spans = zip(flat[::2], flat[1::2])
        else:
            spans = (m.span() for m in _EXOTIC.finditer(text))
        for base, end in spans:
            if base and "\u0300" <= text[base] <= "\u036f" and text[base - 1].isalpha():
                base -= 1
            run = text[base:end]
            folded = cache.get(run)
            if folded is None:
                folded = _fold_run(run, text, base)
                if not folded[2]:  # a zero-width joiner depends on the letters around it: not cacheable
                    if len(cache) > 50_000:
                        cache.clear()
                    cache[run] = folded
            rel, flags, _ = folded
            if flags:
                self.flags.update(flags)
            for s, e, r in rel:
                edits.append((base + s, base + e, r))
        if edits:
            self.edit(edits)

    # -- step 3
    def separators(self) -> None:
        text = self.text
        n = len(text)
        edits: list[tuple[int, int, str]] = []
        done = -1
        if KERNELS is not None:
            flat = KERNELS.sep_pairs(text)
            found = zip(flat[::3], flat[1::3], flat[2::3])
        else:
            found = ((m.start(), m.end(), len(m.group(1))) for m in _SEP_PAIR.finditer(text))
        for start, end, k in found:
            sep = text[start:start + k]
            s = start - 1  # the letter before the first separator
            if s <= done or not _single(text, s, n):
                continue
            while s - k - 1 > done and text[s - k:s] == sep and _single(text, s - k - 1, n):
                s -= k + 1
            e = end - 1  # the last one-letter word so far
            while e + k + 1 <= n and text[e + 1:e + 1 + k] == sep and _single(text, e + 1 + k, n):
                e += k + 1
            tokens = text[s:e + 1:k + 1]
            done = e
            if sum(t.isalpha() for t in tokens) < 2:
                continue  # "1.2.3", "10 5 3": numbers, not a word
            if sep == " " and len(tokens) < 4 and all(t in "ивсaоуяк" or t.isdigit() for t in tokens):
                continue  # short runs of one-letter Russian words ("а в с") read as words
            edits.append((s, e + 1, tokens))
        if edits:
            self.flags.add("separators")
            self.edit(edits)

    def split_mark(self, m: re.Match[str]) -> str | None:
        s, e = m.span()
        text = m.string
        if not (s > 0 and e < len(text) and text[s - 1] in _CYR_SET and text[e] in _CYR_SET):
            return None
        self.flags.add("separators")
        return ""

    # -- step 4
    def at_sign(self, m: re.Match[str]) -> str | None:
        s, e = m.span()
        text = m.string
        if not (s > 0 and e < len(text) and text[s - 1].isalpha() and text[e].isalpha()):
            return None
        if _EMAILISH_AFTER.match(text, e):
            return None
        self.flags.add("digit_sub")
        return "а" if m.string[m.start() - 1] in _CYR_SET else "a"

    # -- step 5
    def words(self) -> None:
        text = self.text
        if KERNELS is not None:
            flat = KERNELS.mixed_words(text)
            if not flat:
                return
            spans = list(zip(flat[::2], flat[1::2]))  # sorted, unique
        else:
            spans = _mixed_words(text)
        edits = []
        for s, e in spans:
            w = text[s:e]
            if _PLAIN_NUMBER_WORD.fullmatch(w) or len(w) > 20 or _in_handle(text, s):
                continue  # numbers with units, wallet addresses and hashes, @handles are names
            r = self.word(w)
            if r is not None:
                edits.append((s, e, r))
        if edits:
            self.edit(edits)

    def word(self, w: str) -> str | None:
        cyr = lat = cyr_unique = lat_unique = 0
        for ch in w:
            if ch in _CYR_SET:
                cyr += 1
                if ord(ch) not in CYR2LAT:
                    cyr_unique += 1
            elif ch in _LAT_SET:
                lat += 1
                if ord(ch) not in LAT2CYR:
                    lat_unique += 1
        if cyr_unique and not lat_unique:
            cyrillic = True
        elif lat_unique and not cyr_unique:
            cyrillic = False
        elif cyr != lat:
            cyrillic = cyr > lat
        else:
            cyrillic = self._cyrillic_bias()
        out = w
        # Look-alikes are single letters slipped into a word ("мeф", "ЗAKЛAДKИ"); a longer run of the other
        # script is a code-switched compound ("наркоshop-ов") and stays as written.
        if cyrillic and lat and _LATIN_RUN3.search(w) is None:
            out = out.translate(LAT2CYR)
        elif not cyrillic and cyr and _CYRILLIC_RUN3.search(w) is None:
            out = out.translate(CYR2LAT)
        if out != w:
            self.flags.add("homoglyph")
        if any(c.isdigit() for c in out):
            subbed = self._digits(out, cyrillic)
            if subbed != out:
                self.flags.add("digit_sub")
                out = subbed
        return None if out == w else out

    def _cyrillic_bias(self) -> bool:
        if self.cyr_bias is None:
            self.cyr_bias = len(_CYR.findall(self.text)) >= len(_LAT.findall(self.text))
        return self.cyr_bias

    @staticmethod
    def _digits(w: str, cyrillic: bool) -> str:
        table = _DIGIT_CYR if cyrillic else _DIGIT_LAT
        chars = list(w)
        n = len(w)
        changed = False
        for run in _DIGIT_RUNS.finditer(w):
            s, e = run.span()
            if 0 < s and e < n and e - s <= 2:
                if not (chars[s - 1].isalpha() and chars[e].isalpha()):
                    continue
            elif s == 0 and e == 1 and n >= 5 and w[1:].isalpha() and not w[1:].startswith(_UNIT_STEMS):
                pass
            else:
                continue
            for i in range(s, e):
                d = chars[i]
                if cyrillic and d == "3":
                    prev_vowel = i > 0 and chars[i - 1] in _CYR_VOWELS
                    next_vowel = i + 1 < n and chars[i + 1] in _CYR_VOWELS
                    # between consonants ("м3ф") it stands for е; next to a vowel or first ("3акладки") for з
                    chars[i] = "е" if i > 0 and not prev_vowel and not next_vowel else "з"
                    changed = True
                elif d in table:
                    chars[i] = table[d]
                    changed = True
        return "".join(chars) if changed else w

    # -- step 6
    def squash(self) -> None:
        edits: list[tuple[int, int, str]] = []
        text = self.text
        if KERNELS is not None:
            flat = KERNELS.triple_runs(text)
            runs = zip(flat[::2], flat[1::2])
        else:
            runs = _triple_runs(text)
        for start, end in runs:
            ch = text[start]
            if ch.isalpha() and _word_at(text, start, end) not in _REAL_TRIPLES:
                edits.append((start, end, ch))
        if edits:
            self.flags.add("stretched")
            self.edit(edits)


def _mixed_words(text: str) -> list[tuple[int, int]]:
    """The words `words()` looks at, sorted: letters-and-digits runs with a digit beside a letter or a
    Latin letter beside a Cyrillic one (the reference for the C kernel `mixed_words`)."""
    hits = [m.start() for m in _DIGIT_NEXT_TO_LETTER.finditer(text)]
    if not text.isascii():
        hits.extend(m.start() for m in _LATIN_NEXT_TO_CYRILLIC.finditer(text))
    if not hits:
        return []
    n = len(text)
    rev = text[::-1]  # word starts are found by matching forwards in the reversed text
    return sorted({(n - _run_end(rev, n - i), _run_end(text, i)) for i in hits})


def _triple_runs(text: str) -> list[tuple[int, int]]:
    """Runs of one character (not a line break) three or more times, left to right (the reference for the
    C kernel `triple_runs`)."""
    out = []
    pos = 0
    while True:
        m = _REPEAT3.search(text, pos)
        if m is None:
            return out
        end = m.end()
        ch = m.group(1)
        while end < len(text) and text[end] == ch:
            end += 1
        out.append((m.start(), end))
        pos = end


def _in_handle(text: str, start: int) -> bool:
    k = start
    while k > 0 and (text[k - 1].isalnum() or text[k - 1] == "_"):
        k -= 1
    return k > 0 and text[k - 1] in "@/+=#&?"  # a handle, or a path or parameter of a link


def _word_at(text: str, start: int, end: int) -> str:
    """The letters-and-digits word around text[start:end]."""
    s = start
    while s > 0 and text[s - 1].isalnum():
        s -= 1
    return text[s:_run_end(text, end)]


def _run_end(text: str, i: int) -> int:
    """Where the run of letters and digits starting at i ends."""
    m = _ALNUM_RUN.match(text, i)
    return m.end() if m else i


def _between_letters(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()


def _single(text: str, i: int, n: int) -> bool:
    """Whether text[i] is a one-character word (a letter or digit with no letter or digit beside it)."""
    return (0 <= i < n and text[i].isalnum() and (i == 0 or not text[i - 1].isalnum())
            and (i + 1 >= n or not text[i + 1].isalnum()))


def normalize(text: str) -> Normalized:
    """Normalise one post's text for matching (see the module docstring for the steps)."""
    p = _Pass(text)
    if _EXOTIC_CHECK.search(text):
        p.exotic()
    lowered = p.text.lower()
    if len(lowered) != len(p.text):  # "İ" lower-cases to two characters; keep the map one-to-one
        lowered = "".join(c.lower() if len(c.lower()) == 1 else "i" for c in p.text)
    if _ACCENTED_LATIN.search(lowered):
        lowered = lowered.translate(_FOLD_LATIN)
    p.text = lowered.replace("ё", "е")
    p.separators()
    p.apply(_SPLIT_MARK, p.split_mark)
    if "@" in p.text:
        p.apply(_AT, p.at_sign)
    p.words()
    p.squash()
    return Normalized(text, p.text, p.flags, p.stages)


# ---- transliteration ----------------------------------------------------------------------------

_TRANSLIT_MULTI = {
    "shch": "щ", "sch": "щ", "zh": "ж", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш", "yu": "ю", "ya": "я",
    "yo": "е", "ju": "ю", "ja": "я", "jo": "е", "ye": "е", "'": "ь",
}
_TRANSLIT_MULTI_RX = re.compile(r"shch|sch|zh|kh|ts|ch|sh|yu|ya|yo|ju|ja|jo|(?<=[aeiou])y(?![a-z])|ye|'")
_TRANSLIT_SINGLE = str.maketrans({
    "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и", "y": "ы", "j": "й",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у",
    "f": "ф", "h": "х", "c": "к", "x": "кс", "w": "в", "q": "к",
    "ä": "ә", "ğ": "ғ", "ñ": "ң", "ö": "ө", "ū": "ұ", "ü": "ү", "ı": "ы", "ş": "ш", "ç": "ч",
})


def _translit_match(m: re.Match[str]) -> str:
    w = m.group()
    return w if w.startswith("emj_") else transliterate(w)


def transliterate(word: str) -> str:
    """Latin (Russian/Kazakh transliteration) -> Cyrillic, e.g. "zakladki" -> "закладки"."""
    word = _TRANSLIT_MULTI_RX.sub(lambda m: "й" if m.group() == "y" else _TRANSLIT_MULTI[m.group()], word)
    return word.translate(_TRANSLIT_SINGLE)
