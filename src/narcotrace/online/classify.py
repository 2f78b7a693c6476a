"""The post classifier: does a post sell drugs or recruit couriers, which drugs, and why (the explanation).

A post is first *analysed* (normalised against evasion, matched against the lexicon, its indicators
extracted); the classifier reads that analysis:

- hashed char n-grams (char_wb 2-5) and word n-grams (1-2) of the normalised text (`online.ngrams`),
- the lexicon terms found (one hashed feature per term, so training can re-weight a term),
- lexicon weights and counts by kind and drug category, co-occurrences (drug + sale vocabulary, drug +
  delivery, recruitment + pay, drug near negative context such as news or prevention),
- indicators (has a handle, bot, phone, card, wallet, onion, ..., and how many), evasion flags.

A linear SVM (one-vs-rest, L2-regularised so no single n-gram decides; C chosen by cross-validation) is
calibrated with `CalibratedClassifierCV` (Platt scaling over cross-validation). `score` is the calibrated probability
of sale or recruitment; the label is the likelier of the two when the score reaches the threshold, else
`none`. The explanation lists the spans (mapped back to the original text) and features that moved the
log-odds of "sale or recruitment" most: lexicon terms, words (their char and word n-grams together),
indicators, and features without a place in the text (co-occurrences, evasion flags) with `span: null`.
"""

from __future__ import annotations

import operator
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp

from narcotrace.errors import UserError
from narcotrace.online.indicators import extract
from narcotrace.online.indicators.base import Indicator
from narcotrace.online.lexicon import KINDS, LexMatch, Lexicon
from narcotrace.online.lexicon import categories as lexicon_categories
from narcotrace.online.ngrams import Hashed, hash_batch
from narcotrace.online.normalize import FLAGS, Normalized, normalize
from narcotrace.textcore import KERNELS

LABELS = ("none", "recruitment", "sale")  # sorted: the column order of predict_proba
POSITIVE = ("sale", "recruitment")
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
MODEL_PREFIX = "post-classifier-"
EXPLAIN_TOP = 8
# Posts scoring below this get a cheap explanation (the few feature totals that held the score down, no
# spans): most posts of a stream are unremarkable, and mapping every word back to the original text was
# the costliest step of `scan`. Posts an analyst may look at (every flagged one) get the full explanation.
EXPLAIN_FULL_FROM = 0.2
EXPLAIN_TOP_CHEAP = 3
# n-grams of a page's first 200,000 normalised characters decide its class (a whole 10 MB page would cost
# GBs of hash arrays); the lexicon and the indicators still read all of it.
MAX_NGRAM_CHARS = 200_000

# The lexicon says "cathinones"; analysts, the simulator and the test sets say "mephedrone".
_CATEGORY_NAMES = {"cathinones": "mephedrone"}
_INDICATOR_KINDS = ("telegram", "bot", "url", "domain", "onion", "email", "phone", "card", "iban", "crypto")
_LEX_CATEGORIES = ("cathinones", "alpha_pvp", "amphetamine", "methamphetamine", "cocaine", "cannabis", "opioids",
                   "psychedelics", "mdma", "synthetic_cannabinoids", "prescription_pills", "dissociatives", "other")
_PAIRS = (("drug", "sale"), ("drug", "delivery"), ("drug", "price"), ("drug", "contact"), ("drug", "payment"),
          ("recruitment", "payment"), ("recruitment", "drug"), ("recruitment", "delivery"),
          ("recruitment", "contact"), ("negative_context", "drug"), ("negative_context", "recruitment"))


def dense_feature_names() -> list[str]:
    """Names of the dense (non-hashed) features, in column order."""
    names = [f"lexicon weight: {k}" for k in KINDS] + [f"lexicon count: {k}" for k in KINDS]
    names += [f"drug category: {c}" for c in _LEX_CATEGORIES]
    names += [f"co-occurrence: {a} + {b}" for a, b in _PAIRS]
    names += [f"indicator: {k}" for k in _INDICATOR_KINDS] + ["indicators: count"]
    names += [f"evasion: {f}" for f in FLAGS] + ["length"]
    return names


DENSE = dense_feature_names()
_DENSE_INDEX = {n: i for i, n in enumerate(DENSE)}
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
_CATEGORY_INDEX = {c: _DENSE_INDEX[f"drug category: {c}"] for c in _LEX_CATEGORIES}
# features without a place in the text, explained with span null
_GLOBAL = np.asarray([i for i, n in enumerate(DENSE) if n.startswith(("co-occurrence", "evasion", "indicators: count"))])


# ---- analysis: what the classifier and the indicator tables read --------------------------------------


@dataclass
class Analysis:
    """One post, analysed: normalised text, lexicon matches, indicators."""

    text: str
    norm: Normalized
    matches: list[LexMatch]
    indicators: list[Indicator]


def analyse(text: str, lexicon: Lexicon, entities: list[dict] | None = None,
            links: list[str] | None = None) -> Analysis:
    return analyse_batch([text], lexicon, [entities], [links])[0]


def analyse_batch(texts: Sequence[str], lexicon: Lexicon, entities: Sequence[list[dict] | None] | None = None,
                  links: Sequence[list[str] | None] | None = None) -> list[Analysis]:
    """`analyse` of many posts, one stage at a time over the batch (normalise all, match all, extract all).

    The same result as `analyse` per post, about 15 % less CPU: each stage's code and compiled patterns
    stay in the CPU's caches for the whole batch instead of taking turns with the other stages per post.
    """
    norms = [normalize(t) for t in texts]
    matches = [lexicon.match(n) for n in norms]
    ents = entities if entities is not None else [None] * len(texts)
    lnks = links if links is not None else [None] * len(texts)
    inds = [extract(t, entities=e or None, links=ln or None) for t, e, ln in zip(texts, ents, lnks)]
    return [Analysis(t, n, m, i) for t, n, m, i in zip(texts, norms, matches, inds)]


def indicator_kind(ind: Indicator) -> str:
    """The indicator kind for features: Telegram bots apart from other handles."""
    if ind.kind == "telegram" and (ind.details.get("is_bot") or ind.value.endswith("bot")):
        return "bot"
    return ind.kind


# ---- features ------------------------------------------------------------------------------------------


@dataclass
class FeatureSpace:
    """Where each block of features sits in the columns of the design matrix."""

    n_char: int = 2**19
    n_word: int = 2**18
    n_lex: int = 2**13
    # value of a lexicon term's own column: below 1, the model leans on the kind/category totals and the
    # n-grams rather than on single terms (generalised better to another writer's posts in grouped CV)
    lex_value: float = 1.0

    @property
    def word_offset(self) -> int:
        return self.n_char

    @property
    def lex_offset(self) -> int:
        return self.n_char + self.n_word

    @property
    def dense_offset(self) -> int:
        return self.n_char + self.n_word + self.n_lex

    @property
    def width(self) -> int:
        return self.dense_offset + len(DENSE)


@dataclass
class LexArrays:
    """The lexicon matches of a batch, flattened in post order: post, kind index (-1: none), weight,
    dense column of its drug category (-1: none) and its own hashed column."""

    doc: np.ndarray
    kind: np.ndarray
    weight: np.ndarray
    cat: np.ndarray
    col: np.ndarray


def lex_arrays(batch: Sequence[Analysis], n_lex: int) -> LexArrays:
    per_post = [len(a.matches) for a in batch]
    flat = [m for a in batch for m in a.matches]
    k = len(flat)
    info = _MATCH_INFO
    if len(_MATCH_ROWS) > 100_000:  # terms are few, but users' lexicons may add regex terms; never mid-batch
        info.clear()
        del _MATCH_ROWS[1:]
    # each match's row of the term table, by its first four fields (term, kind, category, weight)
    at = np.fromiter([info.get(m[:4]) or _match_info(m) for m in flat], dtype=np.int64, count=k)
    arr = _match_table()[at]
    return LexArrays(np.repeat(np.arange(len(batch), dtype=np.int64), per_post), arr[:, 0],
                     np.fromiter(map(_WEIGHT, flat), dtype=np.float64, count=k), arr[:, 1], arr[:, 2] % n_lex)


def _match_info(m: LexMatch) -> int:
    """The row, in the term table, of a match's kind index, the dense column of its drug category (-1: none)
    and its hashed column (before the modulo); added on the term's first match (rows from 1: 0 is falsy)."""
    category_col = (_CATEGORY_INDEX.get(m.category, -1)
                    if m.category and m.kind in ("drug", "emoji") and m.weight > 0 else -1)
    _MATCH_ROWS.append((_KIND_INDEX.get(m.kind, -1), category_col, zlib.crc32(f"{m.kind}|{m.term}".encode())))
    _MATCH_INFO[m[:4]] = len(_MATCH_ROWS) - 1
    return len(_MATCH_ROWS) - 1


def _match_table() -> np.ndarray:
    """_MATCH_ROWS as an array (rebuilt when rows were added)."""
    global _MATCH_ARRAY
    if len(_MATCH_ARRAY) != len(_MATCH_ROWS):
        _MATCH_ARRAY = np.asarray(_MATCH_ROWS, dtype=np.int64).reshape(-1, 3)
    return _MATCH_ARRAY


_MATCH_INFO: dict[tuple, int] = {}
_MATCH_ROWS: list[tuple[int, int, int]] = [(-1, -1, 0)]
_MATCH_ARRAY = np.zeros((0, 3), dtype=np.int64)
_WEIGHT = operator.itemgetter(3)  # LexMatch.weight
_IND_COLUMN = {k: i for i, k in enumerate(_INDICATOR_KINDS)}
_FLAG_COLUMN = {f: i for i, f in enumerate(FLAGS)}


@dataclass
class Features:
    """The design matrix of a batch plus what is needed to attribute scores back to spans."""

    X: sp.csr_matrix | None  # None: not assembled (featurise(matrix=False))
    hashed: Hashed
    char_norm: np.ndarray
    word_norm: np.ndarray
    lex: LexArrays  # the lexicon matches, flattened
    dense: np.ndarray


def featurise(batch: Sequence[Analysis], space: FeatureSpace, matrix: bool = True) -> Features:
    """The batch's features. With matrix=False the design matrix X is not assembled (X is None): the
    compiled kernel scores the same features from their parts (`PostClassifier.predict_proba_features`)."""
    n = len(batch)
    hashed = hash_batch([a.norm.text[:MAX_NGRAM_CHARS] for a in batch], space.n_char, space.n_word)
    if matrix:
        char, char_norm = _occurrences(hashed.char_doc, hashed.char_col, n, space.n_char)
        word, word_norm = _occurrences(hashed.word_doc, hashed.word_col, n, space.n_word)
    else:
        char_norm, word_norm = _counts_and_norms(hashed.char_doc, n)[1], _counts_and_norms(hashed.word_doc, n)[1]
    nk = len(KINDS)
    width = len(DENSE)
    pair_base = 2 * nk + len(_LEX_CATEGORIES)
    ind_base = pair_base + len(_PAIRS)
    flag_base = ind_base + len(_INDICATOR_KINDS) + 1
    # The lexicon matches of the whole batch as flat arrays (one Python pass over them); every dense
    # feature is then a bincount over (post, column) keys.
    lm = lex_arrays(batch, space.n_lex)
    dense = np.zeros(n * width, dtype=np.float64)
    has_kind = lm.kind >= 0
    kd, kk, kw = lm.doc[has_kind], lm.kind[has_kind], np.abs(lm.weight[has_kind])
    dense += np.bincount(kd * width + kk, weights=kw, minlength=n * width)
    dense += np.bincount(kd * width + nk + kk, minlength=n * width)
    has_cat = lm.cat >= 0
    dense += np.bincount(lm.doc[has_cat] * width + lm.cat[has_cat], weights=lm.weight[has_cat], minlength=n * width)
    # indicators (by kind; how many) and evasion flags
    ind_doc, ind_col, ind_n, flag_doc, flag_col = [], [], [], [], []
    for r, a in enumerate(batch):
        if a.indicators:
            ind_n.append(len(a.indicators))
            for ind in a.indicators:
                ii = _IND_COLUMN.get(indicator_kind(ind))
                if ii is not None:
                    ind_doc.append(r)
                    ind_col.append(ii)
        else:
            ind_n.append(0)
        for f in a.norm.flags:
            fi = _FLAG_COLUMN.get(f)
            if fi is not None:
                flag_doc.append(r)
                flag_col.append(fi)
    dense = dense.reshape(n, width)
    if ind_doc:
        dense[np.asarray(ind_doc), ind_base + np.asarray(ind_col)] = 1.0
    if flag_doc:
        dense[np.asarray(flag_doc), flag_base + np.asarray(flag_col)] = 1.0
    counts = dense[:, nk:2 * nk] > 0
    for j, (x, y) in enumerate(_PAIRS):
        dense[:, pair_base + j] = counts[:, _KIND_INDEX[x]] & counts[:, _KIND_INDEX[y]]
    dense[:, ind_base + len(_INDICATOR_KINDS)] = ind_n
    dense[:, -1] = [len(a.text) for a in batch]
    # weights and counts grow without bound in long pages: log1p keeps them comparable across lengths
    dense[:, : 2 * nk + len(_LEX_CATEGORIES)] = np.log1p(dense[:, : 2 * nk + len(_LEX_CATEGORIES)])
    dense[:, ind_base + len(_INDICATOR_KINDS)] = np.log1p(dense[:, ind_base + len(_INDICATOR_KINDS)])
    dense[:, -1] = np.log1p(dense[:, -1]) / 10.0
    if not matrix:
        return Features(None, hashed, char_norm, word_norm, lm, dense)
    lex = sp.csr_matrix((np.ones(len(lm.doc)), (lm.doc, lm.col)), shape=(n, space.n_lex))
    lex.data = np.minimum(lex.data, 1.0) * space.lex_value if lex.nnz else lex.data
    X = sp.hstack([char, word, lex, sp.csr_matrix(dense)], format="csr")
    return Features(X, hashed, char_norm, word_norm, lm, dense)


def _counts_and_norms(doc: np.ndarray, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences in each doc, and their square roots (at least 1): the norms of `_occurrences`."""
    counts = np.bincount(doc, minlength=n_docs) if len(doc) else np.zeros(n_docs, dtype=np.int64)
    return counts, np.sqrt(np.maximum(counts, 1)).astype(np.float64)


def _occurrences(doc: np.ndarray, col: np.ndarray, n_docs: int, n_features: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of hashed n-grams per doc, divided by sqrt(occurrences in the doc).

    That equals L2 normalisation when a post repeats no n-gram (nearly always for short posts) and,
    unlike it, needs no sort to merge duplicates: each occurrence keeps its own entry, which is also what
    lets the explanation give every word its share of the score.
    """
    counts, norms = _counts_and_norms(doc, n_docs)
    order = np.argsort(doc, kind="stable")
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    data = 1.0 / norms[doc[order]]
    m = sp.csr_matrix((data, col[order], indptr), shape=(n_docs, n_features))
    return m, norms


# ---- the model ------------------------------------------------------------------------------------------


@dataclass
class Classification:
    """The classifier's answer for one post."""

    score: float  # calibrated P(sale or recruitment)
    label: str  # sale | recruitment | none
    probabilities: dict[str, float]
    categories: list[str]
    explanation: list[dict] = field(default_factory=list)


class PostClassifier:
    """Featuriser + calibrated linear SVM, with its version and threshold.

    Follows scikit-learn's estimator shape (`fit` on analysed posts and labels, `predict_proba`), and
    adds `classify` (labels, categories, explanations) for `scan`.
    """

    scoring_only = False  # read by load_model(scoring_only=True): classify only, with the compiled scorer

    def __init__(self, C: float = 0.5, space: FeatureSpace | None = None, threshold: float = 0.5,
                 calibration_cv: int = 5) -> None:
        self.C = C
        self.space = space or FeatureSpace()
        self.threshold = threshold
        self.calibration_cv = calibration_cv
        self.version = "untrained"
        self.card: dict = {}

    # -- training
    def fit(self, X: sp.csr_matrix, y: Sequence[str], sample_weight: np.ndarray | None = None) -> PostClassifier:
        """Fit on a design matrix from `featurise` (build it once, reuse it across CV folds)."""
        from sklearn.calibration import CalibratedClassifierCV

        X = _dedupe(X)
        self.model_ = CalibratedClassifierCV(self.base_estimator(), method="sigmoid", cv=self.calibration_cv,
                                             ensemble=False)
        self.model_.fit(X, np.asarray(y), sample_weight=sample_weight)
        lr = self.model_.calibrated_classifiers_[0].estimator
        assert list(self.model_.classes_) == list(LABELS), self.model_.classes_
        # float32 halves the file; the coefficients carry far less precision than that anyway
        self.coef_ = lr.coef_.astype(np.float32)
        self._w_explain = None
        return self

    def __getstate__(self) -> dict:
        # the explanation's float64 weight cache is rebuilt on first use; it would triple the model file
        state = dict(self.__dict__)
        state.pop("_w_explain", None)
        state.pop("_scorer", None)
        return state

    def base_estimator(self):
        from sklearn.svm import LinearSVC

        # liblinear's linear SVM fits this sparse problem in about a second where lbfgs logistic
        # regression took minutes; the sigmoid calibration then turns its margins into probabilities.
        return LinearSVC(C=self.C)

    # -- prediction
    def predict_proba_features(self, feats: Features) -> np.ndarray:
        if feats.X is None:
            return self._predict_proba_kernel(feats)
        if self.scoring_only:
            raise ValueError("a model loaded with scoring_only=True scores features without a design matrix")
        return self.model_.predict_proba(feats.X)

    def _kernel_scorer(self) -> tuple | None:
        """What the compiled scorer needs, when it can stand in for the fitted model: a sigmoid-calibrated
        linear model fitted on all the data at once (ensemble=False); the float64 weights laid out per column
        (~19 MB, built on first use, never saved)."""
        scorer = getattr(self, "_scorer", False)
        if scorer is False:
            scorer = None
            cals = getattr(getattr(self, "model_", None), "calibrated_classifiers_", None)
            if KERNELS is not None and cals is not None and len(cals) == 1 and cals[0].method == "sigmoid":
                est = cals[0].estimator
                coef = getattr(est, "coef_", None)
                if (coef is not None and coef.ndim == 2 and coef.shape == (len(LABELS), self.space.width)
                        and len(cals[0].classes) == len(LABELS)):
                    positions = np.searchsorted(np.sort(cals[0].classes), est.classes_)
                    scorer = (np.ascontiguousarray(coef.T, dtype=np.float64), np.asarray(est.intercept_),
                              positions, cals[0].calibrators)
            self._scorer = scorer
        return scorer

    def _predict_proba_kernel(self, feats: Features) -> np.ndarray:
        """`model_.predict_proba` of the design matrix featurise would assemble, from its parts: the linear
        scores by the compiled kernel (the same sums as SciPy's, bit for bit), then scikit-learn's sigmoid
        calibrators and its normalisation (_CalibratedClassifier.predict_proba, scikit-learn 1.9)."""
        scorer = self._kernel_scorer()
        if scorer is None:
            raise ValueError("features without a design matrix need the compiled scorer; featurise(matrix=True)")
        w, intercept, positions, calibrators = scorer
        sp_ = self.space
        h, lm = feats.hashed, feats.lex
        n = h.n_docs
        raw = KERNELS.linear_scores(n, h.char_doc, h.char_col, h.word_doc, h.word_col, lm.doc, lm.col,
                                    float(sp_.lex_value), np.ascontiguousarray(feats.dense, dtype=np.float64), w,
                                    w.shape[1], sp_.word_offset, sp_.lex_offset, sp_.dense_offset)
        scores = np.frombuffer(raw, dtype=np.float64).reshape(n, w.shape[1]) + intercept
        proba = np.zeros((n, len(LABELS)))
        for class_idx, this_pred, calibrator in zip(positions, scores.T, calibrators):
            proba[:, class_idx] = calibrator.predict(this_pred)
        denominator = np.sum(proba, axis=1)[:, np.newaxis]
        uniform_proba = np.full_like(proba, 1 / len(LABELS))
        proba = np.divide(proba, denominator, out=uniform_proba, where=denominator != 0)
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def predict_proba(self, batch: Sequence[Analysis]) -> np.ndarray:
        return self.predict_proba_features(featurise(batch, self.space))

    def classify(self, batch: Sequence[Analysis], threshold: float | None = None,
                 explain: bool = True) -> list[Classification]:
        if not batch:
            return []
        t = self.threshold if threshold is None else threshold
        feats = featurise(batch, self.space, matrix=self._kernel_scorer() is None)
        proba = self.predict_proba_features(feats)
        labels = label_from_proba(proba, t)
        explanations = self.explain(batch, feats, proba) if explain else [[] for _ in batch]
        out = []
        # whole columns to Python floats at once (the same values as float() of each element)
        for a, label, score, row, expl in zip(batch, labels, (1.0 - proba[:, 0]).tolist(), proba.tolist(),
                                              explanations):
            cats = post_categories(a.matches) if label != "none" else []
            out.append(Classification(score, label, dict(zip(LABELS, row)), cats, expl))
        return out

    # -- explanation
    def explain(self, batch: Sequence[Analysis], feats: Features, proba: np.ndarray) -> list[list[dict]]:
        """Per post, the features that moved the log-odds of its likelier positive class vs none most."""
        sp_ = self.space
        w_sale, w_rec = self._explain_weights()
        use_sale = proba[:, 2] >= proba[:, 1]
        full = (1.0 - proba[:, 0]) >= EXPLAIN_FULL_FROM
        h = feats.hashed
        keep, keep_v = _top_words(h, feats.char_norm, feats.word_norm, w_sale, w_rec, sp_.word_offset, full, use_sale)
        items: list[list[tuple]] = [[] for _ in batch]
        for d, s, e, v in zip(h.tok_doc[keep].tolist(), h.tok_start[keep].tolist(), h.tok_end[keep].tolist(),
                              keep_v.tolist()):
            items[d].append((v, None, (s, e)))
        # dense features' contributions, and each lexicon match's: its own column plus its share of its
        # kind's and category's totals (all vectorised over the batch)
        dwt = np.where(use_sale[:, None], w_sale[sp_.dense_offset:], w_rec[sp_.dense_offset:])
        cd = feats.dense * dwt
        nk = len(KINDS)
        fi = np.nonzero(full)[0].tolist()
        lm = feats.lex
        sel = full[lm.doc]
        m_doc = lm.doc[sel]
        if len(m_doc):
            m_col, m_kind, m_w, m_cat = lm.col[sel], lm.kind[sel], np.abs(lm.weight[sel]), lm.cat[sel]
            lcol = sp_.lex_offset + m_col
            v = np.where(use_sale[m_doc], w_sale[lcol], w_rec[lcol]) * sp_.lex_value
            has_kind = m_kind >= 0
            key = m_doc * nk + np.where(has_kind, m_kind, 0)
            kt = np.bincount(key, weights=m_w * has_kind, minlength=len(batch) * nk)[key]
            kk = np.where(has_kind, m_kind, 0)
            v += np.where(has_kind, m_w / np.where(kt > 0, kt, 1.0) * (cd[m_doc, kk] + cd[m_doc, kk + nk]), 0.0)
            has_cat = m_cat >= 0
            cc = np.where(has_cat, m_cat, 0)
            ckey = m_doc * len(DENSE) + cc
            ct = np.bincount(ckey, weights=m_w * has_cat, minlength=len(batch) * len(DENSE))[ckey]
            v += np.where(has_cat, m_w / np.where(ct > 0, ct, 1.0) * cd[m_doc, cc], 0.0)
            m_vals = v.tolist()
        else:
            m_vals = []
        gd, gj = np.nonzero(feats.dense[fi][:, _GLOBAL]) if fi else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        for d, j in zip(np.asarray(fi, dtype=np.int64)[gd].tolist(), _GLOBAL[gj].tolist()):
            items[d].append((float(cd[d, j]), DENSE[j], None))
        cheap = self._cheap_explanations(cd, ~full)
        out: list[list[dict]] = []
        k = 0
        for i, a in enumerate(batch):
            if not full[i]:
                out.append(cheap.get(i, []))
                continue
            its = items[i]
            for m in a.matches:
                its.append((m_vals[k], m, (m.start, m.end)))
                k += 1
            # indicators: the has-kind feature goes to the first indicator of that kind
            if a.indicators:
                seen: set[str] = set()
                for ind in a.indicators:
                    kind = indicator_kind(ind)
                    j = _DENSE_INDEX.get(f"indicator: {kind}")
                    if kind in seen or j is None:
                        continue
                    seen.add(kind)
                    its.append((float(cd[i, j]), f"indicator: {kind}",
                                ("orig", ind.start, ind.end) if ind.start >= 0 else None))
            its.sort(key=lambda t: -abs(t[0]))
            out.append([_entry(a, v, what, span) for v, what, span in its[:EXPLAIN_TOP] if abs(v) >= 1e-3])
        return out

    def _explain_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Per column, the weight toward sale and toward recruitment (each vs none); computed once."""
        w = getattr(self, "_w_explain", None)
        if w is None:
            coef = self.coef_.astype(np.float64)
            w = self._w_explain = (coef[2] - coef[0], coef[1] - coef[0])
        return w

    @staticmethod
    def _cheap_explanations(cd: np.ndarray, rows: np.ndarray) -> dict[int, list[dict]]:
        """For low-scoring posts: the dense feature totals (lexicon kinds, indicators, evasion, length, ...)
        that moved the score most, without spans."""
        ix = np.nonzero(rows)[0]
        if not len(ix):
            return {}
        sub = cd[ix]
        top = np.argsort(-np.abs(sub), axis=1)[:, :EXPLAIN_TOP_CHEAP]
        vals = np.take_along_axis(sub, top, axis=1)
        out: dict[int, list[dict]] = {}
        for i, cols, vs in zip(ix.tolist(), top.tolist(), vals.tolist()):
            out[i] = [{"feature": DENSE[j], "weight": round(v, 4), "span": None, "text": ""}
                      for j, v in zip(cols, vs) if abs(v) >= 1e-3]
        return out

    # -- persistence
    def save(self, path: Path, card: dict) -> None:
        self.card = card
        self.version = card["version"]
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=("zlib", 6))

    @staticmethod
    def load(path: Path) -> PostClassifier:
        try:
            model = joblib.load(path)
        except (OSError, EOFError, ValueError) as e:
            raise UserError(f"{path}: cannot load the post classifier ({e}); retrain with `narcotrace train`") from e
        if not isinstance(model, PostClassifier):
            raise UserError(f"{path}: not a narcotrace post classifier")
        return model


def _top_words(h: Hashed, char_norm: np.ndarray, word_norm: np.ndarray, w_sale: np.ndarray, w_rec: np.ndarray,
               word_offset: int, full: np.ndarray, use_sale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The words (tokens) that moved each fully explained post's score most: their indices, by post and then by
    absolute contribution (ties in token order), at most EXPLAIN_TOP a post and each of at least 1e-3, and
    their contributions. A word's contribution is the sum of its char and word n-gram occurrences' weights
    toward the post's likelier positive class, divided by the post's norms. In one pass of the compiled
    kernel when it is built; `_top_words_numpy` is the reference."""
    if KERNELS is None:
        return _top_words_numpy(h, char_norm, word_norm, w_sale, w_rec, word_offset, full, use_sale)
    keep, vals = KERNELS.explain_tokens(
        h.n_docs, h.char_doc, h.char_col, h.char_tok, h.word_doc, h.word_col, h.word_tok, h.tok_doc,
        np.ascontiguousarray(char_norm, dtype=np.float64), np.ascontiguousarray(word_norm, dtype=np.float64),
        w_sale, w_rec, word_offset, full.view(np.uint8), use_sale.view(np.uint8), EXPLAIN_TOP, 1e-3)
    return np.frombuffer(keep, dtype=np.int64), np.frombuffer(vals, dtype=np.float64)


def _top_words_numpy(h: Hashed, char_norm: np.ndarray, word_norm: np.ndarray, w_sale: np.ndarray,
                     w_rec: np.ndarray, word_offset: int, full: np.ndarray,
                     use_sale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_top_words` vectorised over the batch in NumPy (only the words of fully explained posts)."""
    ci = np.nonzero(full[h.char_doc])[0]
    cdoc = h.char_doc[ci]
    wc = np.where(use_sale[cdoc], w_sale[h.char_col[ci]], w_rec[h.char_col[ci]]) / char_norm[cdoc]
    wi = np.nonzero(full[h.word_doc])[0]
    wdoc = h.word_doc[wi]
    wcol = word_offset + h.word_col[wi]
    ww = np.where(use_sale[wdoc], w_sale[wcol], w_rec[wcol]) / word_norm[wdoc]
    n_tok = len(h.tok_doc)
    tok_sum = (np.bincount(h.char_tok[ci], weights=wc, minlength=n_tok)
               + np.bincount(h.word_tok[wi], weights=ww, minlength=n_tok))[:n_tok]
    tok_ix = np.nonzero(full[h.tok_doc])[0] if n_tok else np.zeros(0, np.int64)
    tdoc = h.tok_doc[tok_ix]
    order = tok_ix[np.lexsort((-np.abs(tok_sum[tok_ix]), tdoc))]
    first_of_doc = np.searchsorted(h.tok_doc[order], h.tok_doc[order], side="left")
    rank = np.arange(len(order)) - first_of_doc
    keep = order[(rank < EXPLAIN_TOP) & (np.abs(tok_sum[order]) >= 1e-3)]
    return keep, tok_sum[keep]


def _entry(a: Analysis, v: float, what, span) -> dict:
    if what is None:  # a word of the normalised text
        s, e = a.norm.to_original(span[0], span[1])
        return {"feature": f"words: {a.norm.text[span[0]:span[1]]}", "weight": round(v, 4),
                "span": [int(s), int(e)], "text": a.text[s:e]}
    if isinstance(what, LexMatch):
        cat = f", {_CATEGORY_NAMES.get(what.category, what.category)}" if what.category else ""
        term = f"{what.kind} pattern" if what.term.startswith("/") else what.term
        name = f"lexicon: {term} ({what.kind}{cat})"
    else:
        name = what
    if span is None:
        return {"feature": name, "weight": round(v, 4), "span": None, "text": ""}
    if span[0] == "orig":
        s, e = span[1], span[2]
    else:
        s, e = a.norm.to_original(span[0], span[1])
    return {"feature": name, "weight": round(v, 4), "span": [int(s), int(e)], "text": a.text[s:e]}


def _dedupe(X: sp.csr_matrix) -> sp.csr_matrix:
    X = X.copy()
    X.sum_duplicates()
    return X


def label_from_proba(proba: np.ndarray, threshold: float) -> list[str]:
    """sale/recruitment (the likelier) when P(sale or recruitment) >= threshold, else none."""
    positive = (1.0 - proba[:, 0]) >= threshold
    which = np.where(proba[:, 2] >= proba[:, 1], "sale", "recruitment")
    return [w if p else "none" for w, p in zip(which.tolist(), positive.tolist())]


def post_categories(matches: Sequence[LexMatch]) -> list[str]:
    """Drug categories named in a post, in the analysts' names (cathinones -> mephedrone)."""
    out: list[str] = []
    for c in lexicon_categories(matches):
        name = _CATEGORY_NAMES.get(c, c)
        if name not in out:
            out.append(name)
    return out


# ---- the shipped model ----------------------------------------------------------------------------------


def shipped_model_path() -> Path:
    """The newest model in narcotrace/models (by its card's created_at; names carry the version)."""
    import json

    found = list(MODELS_DIR.glob(f"{MODEL_PREFIX}*.joblib"))
    if not found:
        raise UserError(f"no post classifier in {MODELS_DIR}; run `narcotrace train`")

    def created(p: Path) -> str:
        card = p.with_suffix(".json")
        try:
            return str(json.loads(card.read_text(encoding="utf-8")).get("created_at", ""))
        except (OSError, ValueError):
            return ""

    return max(found, key=lambda p: (created(p), p.name))


_CACHE: dict[tuple[str, bool], PostClassifier] = {}


def load_model(path: str | Path | None = None, scoring_only: bool = False) -> PostClassifier:
    """The classifier at `path`, or the shipped one (cached per process).

    `scoring_only`: for `scan`, which only classifies with the compiled scorer. The fitted scikit-learn objects
    in the file are read as plain stand-ins holding their attributes (`_read_without_sklearn`), so scikit-learn is
    not imported: 1.3 s and ~100 MiB less for every scan process. When the file holds anything else, or the
    compiled kernels are not built, the model is loaded in full."""
    p = Path(path) if path is not None else shipped_model_path()
    key = (str(p.resolve()), scoring_only)
    if key not in _CACHE:
        if not p.exists():
            raise UserError(f"--model {p}: no such file")
        model = _read_without_sklearn(p) if scoring_only and KERNELS is not None else None
        _CACHE[key] = model if model is not None else PostClassifier.load(p)
    return _CACHE[key]


class _Fitted:
    """A fitted scikit-learn object read back as its attributes only (see `_read_without_sklearn`)."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _SigmoidCalibration(_Fitted):
    """scikit-learn's `_SigmoidCalibration.predict` (scikit-learn 1.9): the calibrated probability of a score."""

    def predict(self, T: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(-(self.a_ * np.ravel(T) + self.b_))


# What a model file fitted by PostClassifier.fit holds from scikit-learn, and its stand-ins. The compiled scorer
# needs only these objects' arrays (the linear model's coefficients and intercepts, the calibrators' a and b).
_STAND_INS = {
    ("sklearn.calibration", "CalibratedClassifierCV"): _Fitted,
    ("sklearn.calibration", "_CalibratedClassifier"): _Fitted,
    ("sklearn.calibration", "_SigmoidCalibration"): _SigmoidCalibration,
    ("sklearn.svm._classes", "LinearSVC"): _Fitted,
}


class _NotScoringOnly(Exception):
    pass


def _read_without_sklearn(path: Path) -> PostClassifier | None:
    """The model at `path` with stand-ins for its scikit-learn objects, or None when it holds other ones or
    the compiled scorer cannot use it. (joblib.load, with the unpickler's look-up of classes replaced.)"""
    from joblib.numpy_pickle import NumpyUnpickler
    from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

    class Unpickler(NumpyUnpickler):
        def find_class(self, module: str, name: str):
            stand_in = _STAND_INS.get((module, name))
            if stand_in is not None:
                return stand_in
            if module.split(".")[0] == "sklearn":
                raise _NotScoringOnly(f"{module}.{name}")
            return super().find_class(module, name)

    try:
        with open(path, "rb") as f, _validate_fileobject_and_memmap(f, str(path), None) as (fobj, _):
            model = Unpickler(str(path), fobj, True).load()
    except _NotScoringOnly:
        return None
    except (OSError, EOFError, ValueError) as e:
        raise UserError(f"{path}: cannot load the post classifier ({e}); retrain with `narcotrace train`") from e
    if not isinstance(model, PostClassifier):
        raise UserError(f"{path}: not a narcotrace post classifier")
    if model._kernel_scorer() is None:
        return None
    model.scoring_only = True
    return model
