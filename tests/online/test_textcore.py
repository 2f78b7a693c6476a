"""The compiled text kernels (narcotrace._textcore) give exactly what the reference code gives: the n-gram
hashes of `ngrams.hash_batch_numpy` and the lexicon regex's matches, on every text of the repo's training
data and fixtures and on generated texts that stress the edge cases (astral characters, NUL, every kind of
white space, phrases and `*` endings running into each other)."""

from __future__ import annotations

import json
import os
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import narcotrace
from narcotrace import textcore
from narcotrace.online import ngrams
from narcotrace.online.lexicon import Lexicon, _flatten
from narcotrace.online.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]
K = textcore.KERNELS


def _corpus() -> list[str]:
    out = []
    files = sorted((ROOT / "src/narcotrace/online/training").glob("*.jsonl"))
    files += sorted((ROOT / "tests/fixtures/online").glob("posts*.jsonl"))
    for f in files:
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                out.append(rec["text"])
    return out


CORPUS = _corpus()
needs_kernels = pytest.mark.skipif(K is None, reason="NARCOTRACE_PURE_PYTHON is set")


def test_kernels_are_built_by_the_install():
    # `make setup` compiles them; a missing build would make `scan` silently slower
    if os.environ.get("NARCOTRACE_PURE_PYTHON"):
        pytest.skip("NARCOTRACE_PURE_PYTHON is set")
    assert K is not None, "narcotrace._textcore is not built: run `make setup` (needs a C compiler)"
    assert K.ABI_VERSION == textcore.ABI_VERSION


def test_a_stale_build_is_not_used(monkeypatch):
    fake = types.ModuleType("narcotrace._textcore")
    fake.ABI_VERSION = textcore.ABI_VERSION + 1
    monkeypatch.setitem(sys.modules, "narcotrace._textcore", fake)
    monkeypatch.setattr(narcotrace, "_textcore", fake, raising=False)
    monkeypatch.delenv("NARCOTRACE_PURE_PYTHON", raising=False)
    with pytest.warns(RuntimeWarning, match="stale build"):
        assert textcore._load() is None


def test_the_environment_variable_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("NARCOTRACE_PURE_PYTHON", "1")
    assert textcore._load() is None


def _fuzz(seed: int, n: int, alphabet: list[str], longest: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, longest))) for _ in range(n)]


def _same_hashes(texts: list[str], n_char: int, n_word: int, char_range: tuple[int, int] = (2, 5)) -> None:
    a = ngrams._hash_batch_c(texts, n_char, n_word, char_range, (1, 2))
    b = ngrams.hash_batch_numpy(texts, n_char, n_word, char_range)
    assert a.n_docs == b.n_docs
    for name in ("char_doc", "char_col", "char_start", "word_doc", "word_col", "word_start", "word_end",
                 "tok_doc", "tok_start", "tok_end", "char_tok", "word_tok"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name


@needs_kernels
@pytest.mark.parametrize(("n_char", "n_word"), [(2**19, 2**18), (1_000_003, 999)])
def test_hash_kernel_equals_numpy_on_the_corpus(n_char, n_word):
    norms = [normalize(t).text for t in CORPUS]
    assert len(norms) > 2000
    for i in range(0, len(norms), 1500):
        _same_hashes(norms[i:i + 1500], n_char, n_word)
    _same_hashes(CORPUS[:1500], n_char, n_word)  # raw texts: capitals, emoji, invisible characters


@needs_kernels
def test_hash_kernel_equals_numpy_on_edge_cases():
    alphabet = list("ab c_19") + ["\t", "\n", "\x00", "\u00a0", "\u2003", "\u3000", "й", "ё", "😀", "𝟒", "Ⅻ", "٣",
                                  "\u200b", "\ufeff", "\U000e0001", "ǅ"]
    _same_hashes(_fuzz(1, 3000, alphabet, 40), 2**19, 2**18)
    for batch in ([""], ["a"], ["", ""], [" "], ["\x00"], ["ab", "", "cd ef"]):
        _same_hashes(batch, 2**16, 2**12)
    # other n-gram ranges: the kernel hashes every length at a position in one pass and places each length's
    # n-grams in its own part of the outputs
    texts = _fuzz(2, 400, alphabet, 40)
    for char_range in ((1, 3), (3, 6), (2, 2), (4, 4), (1, 1), (2, 8)):
        _same_hashes(texts, 2**10, 2**9, char_range)


@needs_kernels
def test_trie_kernel_finds_what_the_lexicon_regex_finds(tmp_path):
    user = tmp_path / "mine.yaml"  # a user's terms: phrases and endings that overlap the bundled ones
    user.write_text("lang: ru\nterms:\n  - {term: снежинк*, kind: drug, category: cocaine}\n"
                    "  - {term: закладк* в парке, kind: delivery}\n  - {term: мука, kind: drug}\n"
                    "  - {term: ice * cream, kind: drug, translit: false}\n", encoding="utf-8")
    lexicons = [Lexicon.load(), Lexicon.load([user])]
    for lex in lexicons:
        assert lex._ctrie is not None
        terms = [t.term.replace("*", "") for t in lex.terms if t.term]
        pieces = terms + [" ", "  ", "\n", "\t", "_", "x", "1", ".", "@", "ы", "\u00a0", "😀", "-"]
        texts = [normalize(t).text for t in CORPUS] + terms + _fuzz(7, 20000, pieces, 10)
        for text in texts:
            want = [v for m in lex._rx.finditer(text) for v in m.span()]
            assert K.trie_spans(lex._ctrie, text) == want, text


@needs_kernels
def test_trie_kernel_follows_the_regex_order_for_phrases_and_endings():
    # a hand-made trie that exercises every alternative: literal, "\s+", "\w*", both kinds of end
    from narcotrace.online.lexicon import Term

    def term(s: str) -> Term:
        return Term(s, None, "ru", "drug", None, 1.0, "", "test", translit=False)

    lex = Lexicon([term(s) for s in ("ab", "ab cd", "ab*", "ab* x", "abc", "a * b", "x y z", "xy*")])
    for text in ("ab", "abc", "abd", "ab cd", "ab  cd", "ab\ncd", "abz x", "ab x", "a  b", "a q b", "a b",
                 "x y z", "x y", "xyz", "xy", "_ab", "ab_", "ab cde", "abcd x", "ab c", "x  y\tz"):
        want = [v for m in lex._rx.finditer(text) for v in m.span()]
        assert K.trie_spans(lex._ctrie, text) == want, text


@needs_kernels
def test_trie_compile_refuses_malformed_arrays():
    nodes, lits = _flatten(Lexicon.load()._trie)
    with pytest.raises(ValueError):
        K.trie_compile(nodes[:-4], lits)
    with pytest.raises(ValueError):
        K.trie_compile(nodes, lits[:-8])  # a child points past the end


# ---- the normalisation and price scans -------------------------------------------------------------

# Characters that stress each scan: separators, digits of other scripts, Latin/Cyrillic look-alikes, units,
# emoji, combining marks, every kind of white space
_SCAN_PIECES = (list("0123456789 .,-_*·•|/\\~+:'\"\n\t\u00a0\u2003abcxyzgkmozqphipрубтгенштыс₸$мңгз")
                + ["р.", "тенге", "грамм", "штук", "тыс", "zips", "usd", "٣", "𝟒", "🔥", "\u0301", "ааа", "\n\n\n",
                   "\x00", "😀", "Ⅻ", "ǅ", "İ"])


def _scan_texts() -> list[str]:
    return CORPUS + [t.lower() for t in CORPUS] + [normalize(t).text for t in CORPUS] + _fuzz(11, 20000, _SCAN_PIECES, 30)


@needs_kernels
def test_normalisation_scans_find_what_their_regexes_find():
    from narcotrace.online import normalize as nm

    for text in _scan_texts():
        assert K.exotic_runs(text) == [v for m in nm._EXOTIC.finditer(text) for v in m.span()], text
        assert K.sep_pairs(text) == [v for m in nm._SEP_PAIR.finditer(text)
                                     for v in (m.start(), m.end(), len(m.group(1)))], text
        assert K.mixed_words(text) == [v for span in nm._mixed_words(text) for v in span], text
        assert K.triple_runs(text) == [v for span in nm._triple_runs(text) for v in span], text


@needs_kernels
def test_price_kernel_finds_what_the_bundled_price_regexes_find():
    lex = Lexicon.load()
    assert lex._price_terms is not None
    rx = next(rx for rx, term in lex._regex_rxs if term is None)
    names = list(rx.groupindex)
    assert [lex._regex_terms[n] for n in names] == lex._price_terms
    for text in _scan_texts() + ["10 000 000 тг", "5тг", "1 500тг", "2.5 гр", "3,5g", "17к", "1 oz", "7 zips",
                                 "1 2 3 4 5 6 7 8 9 тг", "100 р.", "100р.х", "10 штуками", "٣ гр", "5 тысяч"]:
        want = [v for m in rx.finditer(text) for v in (m.start(), m.end(), names.index(m.lastgroup))]
        assert K.price_spans(text) == want, text


@needs_kernels
def test_compiled_lexicon_matcher_builds_what_the_python_loop_builds(tmp_path):
    # lex_matches: the same LexMatch lists (fields, order, type) and the same translit flag as the Python loop,
    # from a cold cache and a warm one, with the bundled lexicon and with a user's terms
    user = tmp_path / "mine.yaml"
    user.write_text("lang: ru\nterms:\n  - {term: снежинк*, kind: drug, category: cocaine}\n"
                    "  - {term: закладк* в парке, kind: delivery}\n", encoding="utf-8")
    for lex in (Lexicon.load(), Lexicon.load([user])):
        assert lex._compiled
        terms = [t.term.replace("*", "") for t in lex.terms if t.term][::7]
        pieces = terms + [" ", "\n", "_", "@", "/", ".", "1", "2 гр", "5000 тг", "17к", "mef", "zakladki", "x"]
        texts = [normalize(t) for t in CORPUS[::3] + _fuzz(5, 6000, pieces, 8)]
        flagged = 0
        for warm in (False, True):
            if not warm:
                lex._resolved.clear()
            for norm in texts:
                fast, slow = normalize(norm.original), normalize(norm.original)
                lex._compiled = True
                got = lex.match(fast)
                lex._compiled = False
                want = lex.match(slow)
                lex._compiled = True
                assert got == want and all(type(m) is type(w) for m, w in zip(got, want)), norm.original
                assert ("translit" in fast.flags) == ("translit" in slow.flags), norm.original
                flagged += "translit" in fast.flags
        assert flagged > 100


@needs_kernels
def test_compiled_lexicon_matcher_refuses_malformed_cache_entries():
    lex = Lexicon.load()
    from narcotrace.online.lexicon import LexMatch

    with pytest.raises(ValueError, match="head, tail"):
        K.lex_matches(lex._ctrie, "мефедрон", {"мефедрон": ("x",)}, lambda s: None, None, LexMatch)
    with pytest.raises(ValueError, match="4-tuple"):
        K.lex_matches(lex._ctrie, "мефедрон", {"мефедрон": (("a",), ("ru", False), False)}, lambda s: None, None,
                      LexMatch)
    with pytest.raises(ZeroDivisionError):  # an error in resolve() comes through
        K.lex_matches(lex._ctrie, "мефедрон", {}, lambda s: 1 / 0, None, LexMatch)
    assert K.lex_matches(lex._ctrie, "мефедрон", {}, lambda s: None, None, LexMatch) == ([], False)


def test_a_lexicon_with_other_number_regexes_runs_them_as_regexes(tmp_path):
    user = tmp_path / "mine.yaml"  # a user's own number regex joins the group: the C matcher does not know it
    user.write_text("lang: ru\nterms:\n  - {regex: '\\d(?<!\\d\\d)\\d*\\s?(?:доз\\w*)(?!\\w)', kind: price}\n",
                    encoding="utf-8")
    lex = Lexicon.load([user])
    assert lex._price_terms is None and not lex._compiled
    found = [m.term for m in lex.match(normalize("2 дозы, 1г по 15 000 тг"))]
    assert any("доз" in t for t in found) and sum(t.startswith("/") for t in found) == 3


# ---- the linear scorer -------------------------------------------------------------------------------


@needs_kernels
def test_linear_scorer_gives_the_fitted_models_probabilities_bit_for_bit():
    from narcotrace.online.classify import analyse_batch, featurise, load_model

    model = load_model(None)
    lex = Lexicon.load()
    assert model._kernel_scorer() is not None
    for i in range(0, len(CORPUS), 1000):
        batch = analyse_batch(CORPUS[i:i + 1000], lex)
        with_matrix = featurise(batch, model.space)
        without = featurise(batch, model.space, matrix=False)
        assert without.X is None
        assert np.array_equal(with_matrix.char_norm, without.char_norm)
        assert np.array_equal(with_matrix.word_norm, without.word_norm)
        assert np.array_equal(model.model_.predict_proba(with_matrix.X), model.predict_proba_features(without))
    # an empty post, and a post with no lexicon match, no indicator and no n-gram
    for texts in ([""], ["  "], ["x"], ["", "продам мефедрон @shop_kz_bot", ""]):
        batch = analyse_batch(texts, lex)
        assert np.array_equal(model.model_.predict_proba(featurise(batch, model.space).X),
                              model.predict_proba_features(featurise(batch, model.space, matrix=False)))


@needs_kernels
def test_linear_scorer_refuses_arrays_that_do_not_fit():
    w = np.zeros((100, 3))
    doc, col = np.zeros(2, np.int32), np.array([1, 2], np.int64)
    ldoc, lcol = np.array([1, 0], np.int64), np.array([3, 4], np.int64)  # not in post order
    dense = np.zeros((2, 4))
    ok = (2, doc, col, doc, col, np.zeros(0, np.int64), np.zeros(0, np.int64), 1.0, dense, w, 3, 40, 80, 90)
    assert len(K.linear_scores(*ok)) == 2 * 3 * 8
    with pytest.raises(ValueError, match="post order"):
        K.linear_scores(*ok[:5], ldoc, lcol, *ok[7:])
    with pytest.raises(ValueError, match="out of range"):
        K.linear_scores(*ok[:2], np.array([1, 200], np.int64), *ok[3:])
    with pytest.raises(ValueError, match="wrong sizes"):
        K.linear_scores(*ok[:8], np.zeros((2, 20)), *ok[9:])


@needs_kernels
def test_explanation_kernel_picks_the_words_numpy_picks_bit_for_bit():
    from narcotrace.online.classify import EXPLAIN_TOP, _top_words, _top_words_numpy, analyse_batch, featurise, load_model

    model = load_model(None)
    w_sale, w_rec = model._explain_weights()
    rng = np.random.default_rng(7)
    texts = CORPUS + ["", "  ", "x", "a " * 40, "мефедрон " * 30]  # empty posts; more words than EXPLAIN_TOP
    lex = Lexicon.load()
    kept = 0
    for i in range(0, len(texts), 1500):
        batch = analyse_batch(texts[i:i + 1500], lex)
        f = featurise(batch, model.space, matrix=False)
        n = len(batch)
        # every post, none, and random subsets; either positive class
        for full, use_sale in ((np.ones(n, bool), rng.random(n) < 0.5), (np.zeros(n, bool), np.ones(n, bool)),
                               (rng.random(n) < 0.3, rng.random(n) < 0.5)):
            args = (f.hashed, f.char_norm, f.word_norm, w_sale, w_rec, model.space.word_offset, full, use_sale)
            keep, vals = _top_words(*args)
            ref_keep, ref_vals = _top_words_numpy(*args)
            assert np.array_equal(keep, ref_keep)
            assert np.array_equal(vals.view(np.int64), ref_vals.view(np.int64))  # the same bits
            assert np.bincount(f.hashed.tok_doc[keep], minlength=n).max(initial=0) <= EXPLAIN_TOP
            assert set(f.hashed.tok_doc[keep].tolist()) <= set(np.nonzero(full)[0].tolist())
            kept += len(keep)
    assert kept > 10_000


@needs_kernels
def test_explanation_kernel_refuses_arrays_that_do_not_fit():
    i32, i64, f64 = np.int32, np.int64, np.float64
    w = np.zeros(50)
    ok = (2, np.array([0, 1], i32), np.array([3, 4], i64), np.array([0, 1], i64), np.zeros(0, i32), np.zeros(0, i64),
          np.zeros(0, i64), np.array([0, 1], i32), np.ones(2, f64), np.ones(2, f64), w, w, 10,
          np.ones(2, np.uint8), np.ones(2, np.uint8), 8, 1e-3)
    keep, vals = K.explain_tokens(*ok)
    assert len(keep) == len(vals) == 0  # all weights 0: below 1e-3
    with pytest.raises(ValueError, match="post order"):
        K.explain_tokens(*ok[:7], np.array([1, 0], i32), *ok[8:])
    with pytest.raises(ValueError, match="out of range"):
        K.explain_tokens(*ok[:2], np.array([3, 400], i64), *ok[3:])
    with pytest.raises(ValueError, match="wrong sizes"):
        K.explain_tokens(*ok[:8], np.ones(3, f64), *ok[9:])


def test_a_model_the_scorer_does_not_know_is_scored_from_the_matrix():
    from narcotrace.online.classify import analyse_batch, load_model

    model = load_model(None)
    model._scorer = None  # e.g. an ensemble of calibrated classifiers
    batch = analyse_batch(CORPUS[:300], Lexicon.load())
    got = model.classify(batch)
    del model._scorer
    assert [(r.score, r.label, r.explanation) for r in got] == [(r.score, r.label, r.explanation)
                                                                for r in model.classify(batch)]


_HINT_PIECES = (list("0123456789 -.()+\u00a0[]{}/:_@ABKZOoОоТтaklmtz\n") +
                ["٣", "３", "𝟒", "\u200b", "\u00ad", "\u20e3", "\ufe0f", "ｓ", "\U0001d41a", "🔥", "İ", "dot", "Dot",
                 "точка", "ТОЧКА", "t.me", "T.ME", "telegram.", "tg://", "tg", "tlg", "тг", "ТЕЛ", "тлг", "KZ86",
                 "xKZ86", "bc1", "TVJ6", "a" * 12, "wa.me", "WA.ME", "wa.m", "whatsapp.com", "WhatsApp.Com",
                 "whatsapp.co", ".onion", ".ONION", ".onio", "\u2013", "\u2014", "\u2012"])


@needs_kernels
def test_indicator_hints_are_the_first_tests_themselves():
    # every bit equals its regex or substring test (hints.py); a bit set wrongly would skip an extractor
    from narcotrace.online.indicators import hints
    from narcotrace.online.indicators.base import _lower

    texts = CORPUS + _fuzz(12, 40000, _HINT_PIECES, 24) + ["KZ86 125K ZT50", "8 7O7 123 45 67", "Tel87011234567",
                                                           "shop[.]kz", "a" * 25, "a" * 24, "1234", "12 3", ""]
    seen = 0
    for text in texts:
        low = _lower(text)
        want = hints.hints_reference(text, low)
        assert K.indicator_hints(text, low) == want, text
        seen |= want
    assert seen == (1 << 15) - 1  # every test was seen passing (and, on other texts, failing)
