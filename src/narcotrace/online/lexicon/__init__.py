"""The drug-market lexicon as data (ru, kk, en, emoji YAML plus users' files) and its one-pass matcher.

A term is a word or phrase written in normalised form (lower case, ё as е). A trailing `*` on a word
matches any ending (`закладк*` matches закладка, закладки, закладку), words are separated by any
whitespace, and `regex:` entries take a Python regular expression instead (matched against the
normalised text, so write them lower-case). Cyrillic terms also match their common Latin
transliterations ("zakladki", "shishki", "mef"), generated here, so a post written in translit needs no
separate pass; such a match adds the flag "translit" to the post's `Normalized.flags`. A Latin term of
its own ("drop", "kush") keeps its meaning over a transliteration, and loanwords whose Latin form is the
original (каспи/kaspi, бот/bot) are marked `translit: false` in the data.

All literal terms and their transliterations go into one character trie that is compiled into a single
regular expression (shared prefixes factored out, so the engine follows one branch per position): one
`finditer` over the normalised text, where the longest phrase wins ("поваренная соль" is one negative
match, not also "соль"). Regex terms are compiled one by one and run after it; their matches may
overlap word matches ("опт" and a regex "опт от N").
"""

from __future__ import annotations

import hashlib
import itertools
from array import array
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import yaml

from narcotrace.errors import UserError
from narcotrace.online.normalize import Normalized
from narcotrace.textcore import KERNELS

BUNDLED = ("ru.yaml", "kk.yaml", "en.yaml", "emoji.yaml")
KINDS = ("drug", "sale", "delivery", "recruitment", "payment", "contact", "price", "emoji", "negative_context")
CATEGORIES = ("cathinones", "alpha_pvp", "amphetamine", "methamphetamine", "cocaine", "cannabis", "opioids",
              "psychedelics", "mdma", "synthetic_cannabinoids", "prescription_pills", "dissociatives", "other")
_DIR = Path(__file__).parent
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster
_MAX_VARIANTS = 24
_NUMBER_PREFIX = r"\d(?<!\d\d)"  # "a number starts here", the prefix of the bundled price regexes
# The bundled price regexes after that prefix, in the order they load: the C kernel `price_spans` matches
# exactly these, grouped as the Lexicon groups them; any other set of number regexes runs as a regex.
_PRICE_BODIES = (
    r"\d*(?:[.,]\d+)?\s?(?:гр|г|грамм\w*|gr|g)(?!\w)",
    r"[\d\s]{1,8}\s?(?:тг|тенге|теңге|₸|kzt|tg|tenge|руб\w*|р\.|usd|\$)(?!\w)",
    r"\d*\s?(?:шт|штук\w*|pcs)(?!\w)",
    r"\d*(?:[.,]\d+)?\s?(?:к|k|тыс\w*|мың|myn|ming)(?!\w)",
    r"\d*(?:[.,]\d+)?\s?(?:oz|qp|hp|zip|zips)(?!\w)",
)

# How Russian and Kazakh letters are written in Latin by ad writers (first = most usual).
_LATIN_OF = {
    "а": ("a",), "б": ("b",), "в": ("v", "w"), "г": ("g",), "д": ("d",), "е": ("e",), "ж": ("zh", "j"),
    "з": ("z",), "и": ("i",), "й": ("y", "i", "j"), "к": ("k",), "л": ("l",), "м": ("m",), "н": ("n",),
    "о": ("o",), "п": ("p",), "р": ("r",), "с": ("s",), "т": ("t",), "у": ("u", "y"), "ф": ("f",),
    "х": ("h", "kh", "x"), "ц": ("ts", "c"), "ч": ("ch",), "ш": ("sh",), "щ": ("sch", "shch"), "ъ": ("",),
    "ы": ("y", "i"), "ь": ("", "'"), "э": ("e",), "ю": ("yu", "ju"), "я": ("ya", "ja"),
    "ә": ("a", "ä"), "ғ": ("g", "gh"), "қ": ("q", "k"), "ң": ("n", "ng"), "ө": ("o", "ö"), "ұ": ("u",),
    "ү": ("u", "ü"), "һ": ("h",), "і": ("i",),
}
_STAR = "\x00*"
_SPACE = "\x00 "
_END = "\x00$"


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon entry as written in its file."""

    term: str | None
    regex: str | None
    lang: str
    kind: str
    category: str | None
    weight: float
    note: str
    source: str  # file it came from
    translit: bool = True  # also match Latin spellings of a Cyrillic term

    @property
    def label(self) -> str:
        return self.term if self.term is not None else f"/{self.regex}/"


class LexMatch(NamedTuple):
    """A lexicon term found in a post: span in the normalised text (`Normalized.text`).

    A named tuple rather than a dataclass: posts have several matches each and millions of posts are
    scanned, so construction cost counts.
    """

    term: str
    kind: str
    category: str | None
    weight: float
    start: int
    end: int
    lang: str
    translit: bool = False  # matched through a Latin spelling of a Cyrillic term


class Lexicon:
    """The lexicon: terms by language and kind, compiled for one-pass matching."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms = list(terms)
        self.version = _version(self.terms)
        self._trie: dict = {}
        self._resolved: dict[str, tuple] = {}  # matched surface -> its term's fields (see match)
        self._regex_terms: dict[str, Term] = {}
        for t in self.terms:
            if t.regex is not None:
                self._regex_terms[f"r{len(self._regex_terms)}"] = t
                continue
            assert t.term is not None
            _insert(self._trie, _tokens(t.term), (t, False))
        # Transliterations go in after every term as written, so a Latin term of its own ("drop", "kush")
        # keeps its meaning rather than becoming the translit of a Cyrillic one ("дроп").
        for t in self.terms:
            if t.term is not None and t.translit and _has_cyrillic(t.term):
                for variant in _latin_variants(t.term):
                    _insert(self._trie, _tokens(variant), (t, True))
        trie_rx = _emit_top(self._trie)
        self._rx = re.compile(trie_rx) if trie_rx else None
        # The same trie for the C matcher, which follows the regex's branches in the regex's order
        self._ctrie = KERNELS.trie_compile(*_flatten(self._trie)) if KERNELS is not None and trie_rx else None
        # One pattern per regex term, so each starts on its own first character class, which the engine
        # scans for in C (an alternation of them would try every branch at every position). Terms that
        # start with the same number prefix (the bundled prices) share one pattern behind that prefix:
        # at each number the first of them that fits is reported.
        self._regex_rxs: list[tuple[re.Pattern[str], Term | None]] = []
        grouped: list[str] = []
        bodies: list[str] = []
        prices: list[Term] = []
        for name, t in self._regex_terms.items():
            regex = t.regex or ""
            if regex.startswith(_NUMBER_PREFIX):
                bodies.append(regex[len(_NUMBER_PREFIX):])
                grouped.append(f"(?P<{name}>{bodies[-1]})")
                prices.append(t)
            else:
                self._regex_rxs.append((re.compile(regex), t))
        if grouped:
            self._regex_rxs.append((re.compile(_NUMBER_PREFIX + "(?:" + "|".join(grouped) + ")"), None))
        # the terms of the C price matcher's alternatives, when the number regexes are the bundled ones
        self._price_terms = prices if KERNELS is not None and tuple(bodies) == _PRICE_BODIES else None
        # With no regex terms but the bundled prices, the compiled matcher builds the whole list (lex_matches)
        self._price_rows = (tuple(((t.label, t.kind, t.category, t.weight), (t.lang, False)) for t in prices)
                            if self._price_terms is not None else None)
        self._compiled = (KERNELS is not None and (self._rx is None or self._ctrie is not None)
                          and all(term is None for _, term in self._regex_rxs)
                          and (not self._regex_rxs or self._price_rows is not None))

    # -- loading

    @classmethod
    def load(cls, extra: Sequence[Path | str] = ()) -> Lexicon:
        """The bundled ru/kk/en/emoji lexicon plus users' YAML files (same schema), validated."""
        terms: list[Term] = []
        for name in BUNDLED:
            terms.extend(_read_file(_DIR / name, bundled=True))
        for path in extra:
            terms.extend(_read_file(Path(path)))
        return cls(terms)

    # -- matching

    def match(self, norm: Normalized) -> list[LexMatch]:
        """Every term found in the normalised post, left to right, non-overlapping (longest phrase wins)."""
        text = norm.text
        if self._compiled:  # the loops below, in C
            out, translit = KERNELS.lex_matches(self._ctrie, text, self._resolved, self._surface_fields,
                                                self._price_rows, LexMatch)
            if translit:
                norm.flags.add("translit")
            return out
        out: list[LexMatch] = []
        if self._rx is not None:
            cache = self._resolved
            if self._ctrie is not None:
                flat = KERNELS.trie_spans(self._ctrie, text)
                spans = zip(flat[::2], flat[1::2])
            else:
                spans = (m.span() for m in self._rx.finditer(text))
            new = tuple.__new__
            for start, end in spans:
                surface = text[start:end]
                found = cache.get(surface)
                if found is None:
                    found = self._surface_fields(surface)
                    if found is None:  # cannot happen: the pattern is built from the same trie
                        continue
                head, tail, translit = found
                # a handle or link that spells a word in Latin ("@otzyv_mix") is a name, not evasion
                if translit and (start == 0 or text[start - 1] not in "@/._"):
                    norm.flags.add("translit")
                out.append(new(LexMatch, head + (start, end) + tail))
        if self._regex_rxs:
            n_words = len(out)
            for rx, term in self._regex_rxs:
                if term is None and self._price_terms is not None:
                    flat = KERNELS.price_spans(text)
                    terms = self._price_terms
                    for k in range(0, len(flat), 3):
                        t = terms[flat[k + 2]]
                        out.append(LexMatch(t.label, t.kind, t.category, t.weight, flat[k], flat[k + 1], t.lang))
                    continue
                for m in rx.finditer(text):
                    t = term if term is not None else self._regex_terms[m.lastgroup or ""]
                    out.append(LexMatch(t.label, t.kind, t.category, t.weight, m.start(), m.end(), t.lang))
            if len(out) > n_words:
                out.sort(key=lambda x: (x.start, -x.end))
        return out

    def _surface_fields(self, surface: str) -> tuple | None:
        """What a match of `surface` holds but its span: (term, kind, category, weight), (lang, via_translit),
        and whether it may flag the post as transliterated; cached by surface (None: no term spells it)."""
        resolved = _resolve(self._trie, surface)
        if resolved is None:
            return None
        t, via_translit = resolved
        found = ((t.label, t.kind, t.category, t.weight), (t.lang, via_translit), via_translit and "_" not in surface)
        cache = self._resolved
        if len(cache) > 200_000:  # bounded: surfaces repeat, but a corpus may be huge
            cache.clear()
        cache[surface] = found
        return found

    def __len__(self) -> int:
        return len(self.terms)


def categories(matches: Iterable[LexMatch]) -> list[str]:
    """Drug categories named by the matches (drug terms and emoji), strongest first."""
    score: dict[str, float] = {}
    for m in matches:
        if m.category and m.kind in ("drug", "emoji") and m.weight > 0:
            score[m.category] = score.get(m.category, 0.0) + m.weight
    return sorted(score, key=lambda c: (-score[c], c))


# ---- reading and validating files ---------------------------------------------------------------


def _read_file(path: Path, bundled: bool = False) -> list[Term]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as e:
        raise UserError(f"{path}: cannot read lexicon file ({e.strerror or e}); check the --lexicon path") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a valid UTF-8 YAML lexicon file: {e}") from e
    if not isinstance(data, dict):
        raise UserError(f"{path}: a lexicon file is a mapping with 'lang' and 'terms' (see online/lexicon/ru.yaml)")
    file_lang = data.get("lang")
    if "emoji" in data and not bundled:
        # normalize() maps emoji to tokens from the bundled table only, so a new emoji here would never match
        raise UserError(f"{path}: 'emoji:' lists are bundled only; to weight an emoji code, add a term with its "
                        "token instead, e.g. {term: emj_snow, kind: emoji, category: cocaine, weight: 1.0}")
    if "emoji" in data:
        return [_emoji_term(path, i, e) for i, e in enumerate(data["emoji"] or [], 1)]
    entries = data.get("terms")
    if not isinstance(entries, list):
        raise UserError(f"{path}: missing 'terms:' list (see online/lexicon/ru.yaml for the schema)")
    return [_term(path, i, e, file_lang) for i, e in enumerate(entries, 1)]


def _term(path: Path, i: int, e: object, file_lang: str | None) -> Term:
    where = f"{path}, term #{i}"
    if not isinstance(e, dict):
        raise UserError(f"{where}: each term is a mapping like {{term: закладк*, kind: delivery, weight: 1.0}}")
    unknown = set(e) - {"term", "regex", "lang", "kind", "category", "weight", "note", "translit"}
    if unknown:
        raise UserError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: term, regex, lang, kind, category, "
                        "weight, note, translit")
    term, regex = e.get("term"), e.get("regex")
    if (term is None) == (regex is None):
        raise UserError(f"{where}: give exactly one of 'term' or 'regex'")
    label = term if term is not None else regex
    where = f"{path}, term #{i} ({label!r})"
    if term is not None:
        term = " ".join(str(term).lower().replace("ё", "е").split())
        if not term or not re.match(r"\w", term) or "*" in term.replace("* ", " ").rstrip("*"):
            raise UserError(f"{where}: a term starts with a letter or digit and may use '*' only at word ends")
    if regex is not None:
        try:
            compiled = re.compile(str(regex))
        except re.error as err:
            raise UserError(f"{where}: invalid regular expression: {err}") from err
        if compiled.groupindex:
            raise UserError(f"{where}: named groups are not allowed in lexicon regexes; use (?:...)")
        if compiled.match(""):
            raise UserError(f"{where}: the regular expression matches the empty string")
        regex = str(regex)
    lang = e.get("lang", file_lang)
    if not lang:
        raise UserError(f"{where}: no 'lang' (set it for the file or the term)")
    kind = e.get("kind")
    if kind not in KINDS:
        raise UserError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    category = e.get("category")
    if category is not None and category not in CATEGORIES:
        raise UserError(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    weight = e.get("weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not -5 <= weight <= 5:
        raise UserError(f"{where}: weight must be a number between -5 and 5")
    if kind == "negative_context" and weight > 0:
        weight = -weight  # negative context lowers the score whichever sign the author wrote
    translit = e.get("translit", True)
    if not isinstance(translit, bool):
        raise UserError(f"{where}: translit must be true or false")
    return Term(term, regex, str(lang), kind, category, float(weight), str(e.get("note", "")), str(path), translit)


def _emoji_term(path: Path, i: int, e: object) -> Term:
    where = f"{path}, emoji #{i}"
    if not isinstance(e, dict) or not str(e.get("token", "")).startswith("emj_"):
        raise UserError(f"{where}: each emoji is a mapping with char and a token starting with 'emj_'")
    category = e.get("category")
    if category is not None and category not in CATEGORIES:
        raise UserError(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    return Term(str(e["token"]), None, "emoji", "emoji", category, float(e.get("weight", 0.5)),
                str(e.get("note", "")), str(path))


def _version(terms: Sequence[Term]) -> str:
    canon = json.dumps([[t.term, t.regex, t.lang, t.kind, t.category, t.weight, t.translit] for t in terms],
                       ensure_ascii=False, separators=(",", ":"))
    return "lex-" + hashlib.sha256(canon.encode("utf-8")).hexdigest()[:12]


# ---- the trie and its regular expression ---------------------------------------------------------


def _has_cyrillic(s: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in s)


def _tokens(term: str) -> list[str]:
    out: list[str] = []
    for i, word in enumerate(term.split(" ")):
        if i:
            out.append(_SPACE)
        if word.endswith("*"):
            out.extend(word[:-1])
            out.append(_STAR)
        else:
            out.extend(word)
    return out


def _latin_variants(term: str) -> list[str]:
    options = [_LATIN_OF.get(c, (c,)) for c in term]
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*options), _MAX_VARIANTS):
        v = "".join(combo)
        if re.match(r"\w", v) and v not in out and v != term:
            out.append(v)
    return out


def _insert(trie: dict, tokens: list[str], value: tuple[Term, bool]) -> None:
    node = trie
    for tok in tokens:
        node = node.setdefault(tok, {})
    # the first entry for a surface form wins (bundled files load first, literal before translit)
    node.setdefault(_END, value)


def _emit(node: dict) -> str:
    alts = [re.escape(k) + _emit(v) for k, v in node.items() if not k.startswith("\x00")]
    if _SPACE in node:
        alts.append(r"\s+" + _emit(node[_SPACE]))
    if _STAR in node:
        alts.append(r"\w*" + _emit(node[_STAR]))
    if _END in node:
        alts.append("" if node.get("\x00star_end") else r"(?!\w)")
    if not alts:
        return ""
    if len(alts) == 1:
        return alts[0]  # a single branch has no top-level "|", so it needs no group
    return "(?:" + "|".join(alts) + ")"


def _mark_star_ends(node: dict) -> None:
    for k, v in node.items():
        if k.startswith("\x00") and k != _STAR and k != _SPACE:
            continue
        if k == _STAR and _END in v:
            v["\x00star_end"] = True
        _mark_star_ends(v)


def _emit_top(trie: dict) -> str:
    _mark_star_ends(trie)
    # The word-start check comes first: inside a word it fails at once, so the engine walks the branch
    # table only at word starts (twice as fast as one branch per first letter with the check inside).
    alts = [re.escape(k) + _emit(v) for k, v in trie.items() if not k.startswith("\x00")]
    return r"(?<!\w)(?:" + "|".join(alts) + ")" if alts else ""


# How a node of the C matcher may end (_textcore.c): "(?!\w)", or anywhere (the end after a "*")
_T_END, _T_END_ANY = 3, 4


def _flatten(trie: dict) -> tuple[bytes, bytes]:
    """The trie as the C matcher's arrays (after `_emit_top`, which marks the ends after a `*`).

    Per node: offset and count of its literal children, its white-space child, its `*` child (-1: none) and
    how it may end (-1: it may not); per literal child, sorted by character: (character, child). `_emit`
    puts a node's literal children first, then white space, then `*`, then the end, and the C matcher tries
    them in that order, so it finds what the regular expression finds.
    """
    order: list[dict] = []
    index: dict[int, int] = {}

    def number(node: dict) -> int:
        if id(node) not in index:
            index[id(node)] = len(order)
            order.append(node)
        return index[id(node)]

    number(trie)
    nodes: list[int] = []
    lits: list[int] = []
    k = 0
    while k < len(order):  # children are numbered as their parents are written
        node = order[k]
        children = sorted((ord(c), v) for c, v in node.items() if not c.startswith("\x00"))
        nodes.append(len(lits) // 2)
        nodes.append(len(children))
        for ch, child in children:
            lits += [ch, number(child)]
        nodes.append(number(node[_SPACE]) if _SPACE in node else -1)
        nodes.append(number(node[_STAR]) if _STAR in node else -1)
        has_alts = bool(children) or _SPACE in node or _STAR in node
        if _END in node:
            nodes.append(_T_END_ANY if node.get("\x00star_end") else _T_END)
        else:
            nodes.append(-1 if has_alts else _T_END_ANY)  # (a node without alternatives emits "": it matches)
        k += 1
    return array("i", nodes).tobytes(), array("i", lits).tobytes()


def _resolve(trie: dict, surface: str) -> tuple[Term, bool] | None:
    """Which term a matched surface came from: walk the trie in the regex's own order of preference."""

    def walk(node: dict, i: int) -> tuple[Term, bool] | None:
        if i < len(surface):
            child = node.get(surface[i])
            if child is not None:
                found = walk(child, i + 1)
                if found is not None:
                    return found
            if _SPACE in node and surface[i].isspace():
                j = i
                while j < len(surface) and surface[j].isspace():
                    j += 1
                found = walk(node[_SPACE], j)
                if found is not None:
                    return found
        if _STAR in node:
            j = i
            while j < len(surface) and (surface[j].isalnum() or surface[j] == "_"):
                j += 1
            for k in range(j, i - 1, -1):
                found = walk(node[_STAR], k)
                if found is not None:
                    return found
        if i == len(surface) and _END in node:
            return node[_END]
        return None

    return walk(trie, 0)
