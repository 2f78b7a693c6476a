"""Hashed character (char_wb) and word n-grams of a batch of texts, computed with NumPy, with positions.

scikit-learn's HashingVectorizer builds every n-gram as a Python string (about 4,500 short posts/s for
char_wb 2-5 on this machine), which alone would miss the scan speed target. Here a whole batch is one
array of code points and each n-gram length is one rolling-hash pass over it, so the cost per post is a
few microseconds. The features are the same idea as `HashingVectorizer(analyzer="char_wb")` (n-grams
inside whitespace-padded words) and `analyzer="word"` (runs of word characters, and pairs of them), with
digits folded to 0 so prices and numbers generalise ("15000 тг" and "17000 тг" look alike). Because the
position of every n-gram is kept, the classifier can say which words of a post drove its score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from narcotrace.textcore import KERNELS

_U64 = np.uint64
_B = 0x100000001B3  # FNV prime: odd, so invertible modulo 2**64
_B_INV = pow(_B, -1, 2**64)
_SPACE = 32
_NUL = 0


def _tables() -> tuple[np.ndarray, np.ndarray]:
    cps = range(0x10000)
    space = np.fromiter((chr(c).isspace() for c in cps), dtype=bool, count=0x10000)
    word = np.fromiter((chr(c).isalnum() or c == 0x5F for c in cps), dtype=bool, count=0x10000)
    space[_NUL] = False
    word[_NUL] = False
    return space, word


_IS_SPACE, _IS_WORD = _tables()
_DIGITS = np.arange(0x31, 0x3A)


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the rolling hash's bits before taking the bucket."""
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


_POWERS: list[np.ndarray] = []
_POWERS_KEPT = 1 << 20  # 16 MiB for both tables: a batch of short posts is ~550,000 code points


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B**i and B**-i (mod 2**64) for i < n; kept between batches of short posts (pages: computed)."""
    if _POWERS and len(_POWERS[0]) >= n:
        return _POWERS[0][:n], _POWERS[1][:n]
    size = max(n, _POWERS_KEPT)
    pw = np.full(size, _B, dtype=_U64)
    pw[0] = 1
    ipw = np.full(size, _B_INV, dtype=_U64)
    ipw[0] = 1
    tables = [np.cumprod(pw, dtype=_U64), np.cumprod(ipw, dtype=_U64)]
    if size == _POWERS_KEPT:
        _POWERS[:] = tables
    return tables[0][:n], tables[1][:n]


def _bucket(h: np.ndarray, n: int) -> np.ndarray:
    """h mod n as int64 columns; a mask when n is a power of two (the same value, without a division)."""
    if n & (n - 1) == 0:
        return (h & _U64(n - 1)).astype(np.int64)
    return (h % _U64(n)).astype(np.int64)


@dataclass
class Hashed:
    """The n-gram occurrences of a batch: one entry per occurrence (doc, column, span in the doc's text)."""

    n_docs: int
    char_doc: np.ndarray
    char_col: np.ndarray
    char_start: np.ndarray  # offset in the doc's text of the n-gram's first letter (padding excluded)
    word_doc: np.ndarray
    word_col: np.ndarray
    word_start: np.ndarray
    word_end: np.ndarray
    tok_doc: np.ndarray  # whitespace-delimited words ("tokens") of all docs, in order
    tok_start: np.ndarray  # offsets in the doc's text
    tok_end: np.ndarray
    char_tok: np.ndarray  # token each char n-gram occurrence belongs to (index into tok_*)
    word_tok: np.ndarray  # token each word n-gram occurrence starts in


def hash_batch(texts: list[str], n_char: int, n_word: int, char_range: tuple[int, int] = (2, 5),
               word_range: tuple[int, int] = (1, 2)) -> Hashed:
    """Hash the char_wb and word n-grams of `texts` into `n_char` / `n_word` buckets."""
    if KERNELS is not None:
        return _hash_batch_c(texts, n_char, n_word, char_range, word_range)
    return hash_batch_numpy(texts, n_char, n_word, char_range, word_range)


def _hash_batch_c(texts: list[str], n_char: int, n_word: int, char_range: tuple[int, int],
                  word_range: tuple[int, int]) -> Hashed:
    """`hash_batch_numpy` in one C pass (`_textcore.hash_ngrams`): the same arrays, in the same order."""
    assert KERNELS is not None
    (cd, cc, cs, ct, wd, wc, ws, we, wt, td, ts, te) = KERNELS.hash_ngrams(
        list(texts), n_char, n_word, char_range[0], char_range[1], word_range[0], word_range[1])
    i32, i64 = np.int32, np.int64
    f = np.frombuffer
    return Hashed(len(texts), f(cd, i32), f(cc, i64), f(cs, i64), f(wd, i32), f(wc, i64), f(ws, i64), f(we, i64),
                  f(td, i32), f(ts, i64), f(te, i64), f(ct, i64), f(wt, i64))


def hash_batch_numpy(texts: list[str], n_char: int, n_word: int, char_range: tuple[int, int] = (2, 5),
                     word_range: tuple[int, int] = (1, 2)) -> Hashed:
    """The reference implementation of `hash_batch` in NumPy (used when the C kernels are not built)."""
    n_docs = len(texts)
    # Each doc becomes " text " and docs are joined by NUL, so padding spaces mark word edges and no
    # n-gram spans two docs.
    joined = "\x00".join(f" {t} " for t in texts)
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=n_docs)
    doc_start = np.zeros(n_docs, dtype=np.int64)  # position of each doc's leading space
    if n_docs > 1:
        doc_start[1:] = np.cumsum(lengths[:-1] + 1)
    L = len(cp)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), lengths + 1)[:L]
    bmp = np.minimum(cp, 0xFFFF)
    is_space = _IS_SPACE[bmp] & (cp < 0x10000)
    is_word = _IS_WORD[bmp] & (cp < 0x10000)
    is_nul = cp == _NUL
    c = np.where(is_space, _SPACE, cp)
    c = np.where((c >= 0x31) & (c <= 0x39), 0x30, c).astype(_U64)

    # ---- char_wb n-grams: no whitespace inside, no NUL anywhere, not all padding
    space_pre = np.concatenate(([0], np.cumsum(is_space, dtype=np.int64)))
    nul_pre = np.concatenate(([0], np.cumsum(is_nul, dtype=np.int64)))
    docs, cols, starts = [], [], []
    h = c.copy()
    lo, hi = char_range
    for n in range(2, hi + 1):
        h = h[:-1] * _U64(_B) + c[n - 1:]
        if n < lo:
            continue
        m = len(h)
        # (slices of the prefix sums, not gathers: the n-gram at p spans [p, p + n))
        ok = (nul_pre[n:n + m] - nul_pre[:m]) == 0
        ok &= (space_pre[n - 1:n - 1 + m] - space_pre[1:1 + m]) == 0
        ok &= ~(is_space[:m] & is_space[n - 1:n - 1 + m])
        idx = np.nonzero(ok)[0]
        hv = _fmix(h[idx] ^ _U64(0x9E3779B97F4A7C15 * n % 2**64))
        docs.append(doc_of[idx])
        cols.append(_bucket(hv, n_char))
        # the n-gram belongs to the word of its first non-space character
        first = idx + is_space[idx]
        starts.append(first)
    char_doc = np.concatenate(docs) if docs else np.zeros(0, np.int32)
    char_col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    char_first = np.concatenate(starts) if starts else np.zeros(0, np.int64)  # global positions
    char_start = char_first - doc_start[char_doc] - 1

    # ---- tokens (whitespace-delimited words), to attribute n-grams to the words they come from
    sep = is_space | is_nul
    sep_prev = np.concatenate(([True], sep[:-1]))
    sep_next = np.concatenate((sep[1:], [True]))
    is_t_start = ~sep & sep_prev
    t_start = np.nonzero(is_t_start)[0]
    t_end = np.nonzero(~sep & sep_next)[0] + 1
    t_doc = doc_of[t_start]
    # the token each position belongs to (the last token start at or before it): a lookup, not a search
    tok_at = np.cumsum(is_t_start, dtype=np.int64) - 1
    char_tok = tok_at[char_first]

    # ---- word n-grams: runs of word characters, and consecutive pairs within a doc
    prev = np.concatenate(([False], is_word[:-1]))
    nxt = np.concatenate((is_word[1:], [False]))
    w_start = np.nonzero(is_word & ~prev)[0]
    w_end = np.nonzero(is_word & ~nxt)[0] + 1
    pw, ipw = _powers(L + 1)
    pre = np.concatenate(([_U64(0)], np.cumsum(c * pw[:L], dtype=_U64)))
    wh = (pre[w_end] - pre[w_start]) * ipw[w_start]
    w_doc = doc_of[w_start]
    wdocs, wcols, wstarts, wends = [], [], [], []
    if word_range[0] <= 1:
        wdocs.append(w_doc)
        wcols.append(_bucket(_fmix(wh ^ _U64(0x51ED27A1)), n_word))
        wstarts.append(w_start)
        wends.append(w_end)
    if word_range[1] >= 2 and len(w_start) > 1:
        same = w_doc[:-1] == w_doc[1:]
        i = np.nonzero(same)[0]
        bh = _fmix(wh[i] * _U64(0x2545F4914F6CDD1D) + wh[i + 1] ^ _U64(0xB16B00B5))
        wdocs.append(w_doc[i])
        wcols.append(_bucket(bh, n_word))
        wstarts.append(w_start[i])
        wends.append(w_end[i + 1])
    word_doc = np.concatenate(wdocs) if wdocs else np.zeros(0, np.int32)
    off = doc_start[word_doc] + 1 if len(word_doc) else np.zeros(0, np.int64)
    word_first = np.concatenate(wstarts) if wstarts else np.zeros(0, np.int64)
    word_start = word_first - off
    word_end = (np.concatenate(wends) - off) if wends else np.zeros(0, np.int64)
    word_tok = tok_at[word_first]
    t_off = doc_start[t_doc] + 1
    return Hashed(n_docs, char_doc, char_col, char_start,
                  word_doc, np.concatenate(wcols) if wcols else np.zeros(0, np.int64), word_start, word_end,
                  t_doc, t_start - t_off, t_end - t_off, char_tok, word_tok)
