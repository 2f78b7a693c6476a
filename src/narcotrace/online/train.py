"""Training the post classifier: the training posts, the simulator's posts, analysts' decisions; CV; model card.

The held-out test set (data/heldout/) never enters training: `load_posts` refuses any path under a
`heldout` folder, and nothing here reads it. C (regularisation) and the decision threshold are chosen
by cross-validation on the hand-written training posts only (simulator posts and decisions are always on
the training side of a fold, so templates cannot leak into the scores that pick them). The folds are
grouped: posts that are translations or rewrites of one another (shared contacts, or most character
n-grams in common) stay in one fold, so CV measures posts the model has not seen a version of.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from narcotrace.errors import InputError, UserError
from narcotrace.online.classify import (
    LABELS,
    MODEL_PREFIX,
    MODELS_DIR,
    FeatureSpace,
    PostClassifier,
    analyse_batch,
    featurise,
    label_from_proba,
)
from narcotrace.online.indicators import EXTRACTOR_VERSION
from narcotrace.online.lexicon import Lexicon
from narcotrace.online.normalize import NORMALIZER_VERSION

TRAINING_DIR = Path(__file__).parent / "training"
C_GRID = (0.5, 1.0, 2.0)
SIM_WEIGHT = 1.0  # grouped CV and a second writer's posts scored better with 1.0 than with 0.5 or 0.1
DECISION_WEIGHT = 2.0  # an analyst's decision on a real post is the best evidence there is
MIN_PRECISION = 0.97
LEX_VALUE = 0.5  # a lexicon term's own column (see FeatureSpace.lex_value); chosen by grouped CV
SECOND_WRITER_PREFIX = "tr2-"  # ids of the training posts written by a second, later writer


@dataclass
class TrainingPost:
    id: str
    text: str
    label: str
    origin: str  # handwritten | simulator | decision
    lang: str | None = None
    kind: str | None = None
    obfuscated: bool | None = None


def refuse_heldout(path: Path) -> None:
    """The held-out test set must never be trained on."""
    if any(part.lower().startswith("heldout") for part in Path(path).resolve().parts):
        raise UserError(f"{path}: this is the held-out test set; it is never used for training (data/heldout/README.md)")


def load_posts(paths: Sequence[Path], origin: str = "handwritten") -> list[TrainingPost]:
    """Labelled posts from JSONL files (id, text, label sale|recruitment|none, optional lang/kind/obfuscated)."""
    out: list[TrainingPost] = []
    for path in paths:
        refuse_heldout(path)
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(path, f"not valid JSON ({e.msg})", row=n) from e
                if r.get("label") not in LABELS or not isinstance(r.get("text"), str):
                    raise InputError(path, f"needs text and label sale|recruitment|none, got {r.get('label')!r}", row=n)
                out.append(TrainingPost(str(r.get("id", f"{path.name}:{n}")), r["text"], r["label"], origin,
                                        r.get("lang"), r.get("kind"), r.get("obfuscated")))
    return out


def handwritten_posts() -> list[TrainingPost]:
    return load_posts(sorted(TRAINING_DIR.glob("*.jsonl")))


def simulator_posts(world: Path) -> list[TrainingPost]:
    """Posts of a simulated world (`narcotrace simulate --out DIR`) with their true labels."""
    import pyarrow.parquet as pq

    refuse_heldout(world)
    posts, truth = world / "posts.jsonl", world / "truth" / "posts.parquet"
    if not posts.exists() or not truth.exists():
        raise UserError(f"--sim-world {world}: expected posts.jsonl and truth/posts.parquet "
                        "(from `narcotrace simulate --out DIR`)")
    t = pq.read_table(truth, columns=["post_id", "label", "kind", "lang", "obfuscated"]).to_pylist()
    by_id = {r["post_id"]: r for r in t}
    out = []
    with open(posts, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            tr = by_id.get(r["id"])
            if tr is None:
                continue
            out.append(TrainingPost(f"{world.name}:{r['id']}", r["text"], tr["label"], "simulator", tr["lang"],
                                    tr["kind"], bool(tr["obfuscated"])))
    return out


def dedupe(posts: list[TrainingPost]) -> list[TrainingPost]:
    """One post per normalised text (the simulator repeats some), first occurrence wins."""
    seen: set[str] = set()
    out = []
    for p in posts:
        key = " ".join(p.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


# ---- cross-validation ---------------------------------------------------------------------------------


def binary_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """Precision, recall, F1 of 'sale or recruitment' vs none, and recall of recruitment."""
    t = np.asarray([y != "none" for y in y_true])
    p = np.asarray([y != "none" for y in y_pred])
    tp = int((t & p).sum())
    prec = tp / p.sum() if p.sum() else 1.0
    rec = tp / t.sum() if t.sum() else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    rt = np.asarray([y == "recruitment" for y in y_true])
    rp = np.asarray([y == "recruitment" for y in y_pred])
    rrec = float((rt & rp).sum() / rt.sum()) if rt.sum() else 1.0
    return {"precision": float(prec), "recall": float(rec), "f1": float(f1), "recruitment_recall": rrec,
            "n": len(y_true)}


SAME_POST_COSINE = 0.6  # char n-gram cosine from which two posts count as versions of one another


def near_duplicate_groups(analyses: Sequence, X_char) -> np.ndarray:
    """Group posts that are versions of one another, so CV never puts one in training and another in test.

    Some training posts are ru/kk/en translations or rewrites of one another: they share a handle, phone,
    card or wallet (translations keep the contacts), or most of their character n-grams (rewrites). Posts
    linked by either are one group (connected components).
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from sklearn.preprocessing import normalize as l2

    n = len(analyses)
    rows, cols = [], []
    first: dict[str, int] = {}
    for i, a in enumerate(analyses):
        for ind in a.indicators:
            key = ind.canonical_id or f"{ind.kind}:{ind.value}"
            j = first.setdefault(key, i)
            if j != i:
                rows.append(i)
                cols.append(j)
    C = l2(X_char)
    S = (C @ C.T).tocoo()
    close = (S.data >= SAME_POST_COSINE) & (S.row != S.col)
    rows.extend(S.row[close].tolist())
    cols.extend(S.col[close].tolist())
    g = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _folds(y: np.ndarray, k: int, seed: int, groups: np.ndarray | None = None) -> list[np.ndarray]:
    from sklearn.model_selection import StratifiedGroupKFold

    if groups is None:
        groups = np.arange(len(y))
    skf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [test for _, test in skf.split(np.zeros(len(y)), y, groups)]


def choose_threshold(y: Sequence[str], proba: np.ndarray, min_precision: float = MIN_PRECISION) -> float:
    """The threshold with the best F1 among those reaching `min_precision` (else the best F1)."""
    best, best_any = (-1.0, 0.5), (-1.0, 0.5)
    for t in np.round(np.arange(0.2, 0.91, 0.02), 2):
        m = binary_metrics(y, label_from_proba(proba, float(t)))
        if m["f1"] > best_any[0]:
            best_any = (m["f1"], float(t))
        if m["precision"] >= min_precision and m["f1"] > best[0]:
            best = (m["f1"], float(t))
    return best[1] if best[0] >= 0 else best_any[1]


@dataclass
class TrainReport:
    version: str
    path: Path
    counts: dict[str, dict[str, int]]
    C: float
    threshold: float
    cv: dict[str, float]
    cv_by_C: dict[str, float] = field(default_factory=dict)

    def render(self) -> list[str]:
        lines = [f"model {self.version} -> {self.path}"]
        for origin, c in self.counts.items():
            lines.append(f"  {origin}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(c.items())))
        lines.append(f"  C={self.C} (CV F1 by C: " + ", ".join(f"{k}: {v:.3f}" for k, v in self.cv_by_C.items()) + ")")
        lines.append(f"  threshold={self.threshold}; 5-fold CV on hand-written posts: precision {self.cv['precision']:.3f}, "
                     f"recall {self.cv['recall']:.3f}, F1 {self.cv['f1']:.3f}, "
                     f"recruitment recall {self.cv['recruitment_recall']:.3f}")
        w2 = self.cv.get("second_writer")
        if w2:
            lines.append(f"  second writer's posts ({w2['n']}) by a model trained without them: precision "
                         f"{w2['precision']:.3f}, recall {w2['recall']:.3f}, F1 {w2['f1']:.3f}, "
                         f"recruitment recall {w2['recruitment_recall']:.3f}")
        return lines


def train(out: Path | None = None, *, sim_worlds: Sequence[Path] = (), decisions: Sequence[tuple[str, str, str]] = (),
          extra_posts: Sequence[Path] = (), C: float | None = None, folds: int = 5, seed: int = 7,
          lexicon: Lexicon | None = None, step: Callable[[str], None] | None = None) -> TrainReport:
    """Train, cross-validate, calibrate and save the post classifier with its JSON model card."""
    say = step or (lambda s: None)
    lexicon = lexicon or Lexicon.load()
    hand = dedupe(handwritten_posts() + load_posts([Path(p) for p in extra_posts]))
    sim: list[TrainingPost] = []
    for w in sim_worlds:
        sim.extend(simulator_posts(Path(w)))
    known = {" ".join(p.text.lower().split()) for p in hand}
    sim = [p for p in dedupe(sim) if " ".join(p.text.lower().split()) not in known]
    dec = [TrainingPost(f"decision:{pid}", text, label, "decision") for pid, text, label in decisions]
    posts = hand + sim + dec
    if len({p.label for p in posts}) < 3:
        raise UserError("training needs sale, recruitment and none posts")
    say(f"analysing {len(posts):,} posts")
    analyses = analyse_batch([p.text for p in posts], lexicon)
    space = FeatureSpace(lex_value=LEX_VALUE)
    X = featurise(analyses, space).X
    X.sum_duplicates()
    y = np.asarray([p.label for p in posts])
    weight = np.asarray([{"handwritten": 1.0, "simulator": SIM_WEIGHT, "decision": DECISION_WEIGHT}[p.origin]
                         for p in posts])
    n_hand = len(hand)
    groups = near_duplicate_groups(analyses[:n_hand], X[:n_hand, :space.n_char])
    fold_tests = _folds(y[:n_hand], folds, seed, groups)

    def oof(clf_factory, calibrated: bool) -> np.ndarray:
        """Out-of-fold calibrated probabilities, or (uncalibrated) one-hot predictions, for hand-written posts."""
        proba = np.zeros((n_hand, len(LABELS)))
        for test in fold_tests:
            train_ix = np.setdiff1d(np.arange(len(posts)), test)
            clf = clf_factory()
            if calibrated:
                clf.fit(X[train_ix], y[train_ix], sample_weight=weight[train_ix])
                proba[test] = clf.model_.predict_proba(X[test])
            else:
                est = clf.base_estimator()
                est.fit(X[train_ix], y[train_ix], sample_weight=weight[train_ix])
                pred = est.predict(X[test])
                proba[test] = np.asarray([[float(p == c) for c in LABELS] for p in pred])
        return proba

    cv_by_C: dict[str, float] = {}
    if C is None:
        best = (-1.0, C_GRID[0])
        for c in C_GRID:
            say(f"cross-validating C={c}")
            p = oof(lambda c=c: PostClassifier(C=c, space=space), calibrated=False)
            f1 = binary_metrics(y[:n_hand], label_from_proba(p, 0.5))["f1"]
            cv_by_C[str(c)] = round(f1, 4)
            if f1 > best[0] + 1e-9:
                best = (f1, c)
        C = best[1]
    say(f"calibrating (C={C}) and choosing the threshold")
    p = oof(lambda: PostClassifier(C=C, space=space, calibration_cv=3), calibrated=True)
    threshold = choose_threshold(y[:n_hand], p)
    pred = label_from_proba(p, threshold)
    cv = binary_metrics(y[:n_hand], pred)
    obf = [i for i, h in enumerate(hand) if h.obfuscated]
    cv["f1_obfuscated"] = binary_metrics(y[:n_hand][obf], [pred[i] for i in obf])["f1"] if obf else float("nan")
    # Another writer's posts are what the model meets in use: train without the second writer's posts
    # (ids tr2-*) and score them, at the CV threshold. Reported only; it chooses nothing.
    second = np.asarray([i for i, h in enumerate(hand) if h.id.startswith(SECOND_WRITER_PREFIX)], dtype=np.int64)
    if 0 < len(second) < n_hand:
        say("scoring the second writer's posts with a model trained without them")
        train_ix = np.setdiff1d(np.arange(len(posts)), second)
        clf = PostClassifier(C=C, space=space, calibration_cv=3).fit(X[train_ix], y[train_ix],
                                                                     sample_weight=weight[train_ix])
        tp = label_from_proba(clf.model_.predict_proba(X[second]), threshold)
        cv["second_writer"] = binary_metrics(y[second], tp)
    say("fitting the final model")
    clf = PostClassifier(C=C, space=space, threshold=threshold)
    clf.fit(X, y, sample_weight=weight)

    counts: dict[str, dict[str, int]] = {}
    for p_ in posts:
        counts.setdefault(p_.origin, Counter())[p_.label] += 1
    data_hash = hashlib.sha256("\n".join(f"{p_.origin}\t{p_.label}\t{p_.text}" for p_ in posts).encode()).hexdigest()
    # the version names the data and what turns it into features, so a new extractor gives a new model id
    recipe = f"{data_hash}|{lexicon.version}|{NORMALIZER_VERSION}|{EXTRACTOR_VERSION}|{space}"
    version = f"{datetime.now(UTC):%Y%m%d}-{hashlib.sha256(recipe.encode()).hexdigest()[:8]}"
    path = Path(out) if out is not None else MODELS_DIR / f"{MODEL_PREFIX}{version}.joblib"
    if path.suffix != ".joblib":
        path = path.with_suffix(".joblib")
    card = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": "linear SVM (one-vs-rest) on hashed char_wb 2-5 + word 1-2 n-grams, lexicon and "
                 "indicator features; sigmoid-calibrated (CalibratedClassifierCV, 5 folds); C and threshold "
                 "by grouped cross-validation (translations/rewrites in one fold)",
        "C": C, "threshold": threshold, "cv_folds": folds, "cv_seed": seed,
        "cv_f1_by_C": cv_by_C,
        "cv_metrics_handwritten": _rounded(cv),
        "training_counts": {k: dict(v) for k, v in counts.items()},
        "training_data_sha256": data_hash,
        "training_files": {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                           for f in sorted(TRAINING_DIR.glob("*.jsonl"))},
        "simulator_worlds": [str(w) for w in sim_worlds],
        "lexicon_version": lexicon.version,
        "normalizer_version": NORMALIZER_VERSION,
        "extractor_version": EXTRACTOR_VERSION,
        "feature_space": {"n_char": space.n_char, "n_word": space.n_word, "n_lex": space.n_lex,
                          "lex_value": space.lex_value},
        "sample_weights": {"handwritten": 1.0, "simulator": SIM_WEIGHT, "decision": DECISION_WEIGHT},
    }
    clf.save(path, card)
    path.with_suffix(".json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return TrainReport(version, path, {k: dict(v) for k, v in counts.items()}, C, threshold, cv, cv_by_C)


def _rounded(d: dict) -> dict:
    return {k: _rounded(v) if isinstance(v, dict) else round(v, 4) if isinstance(v, float) else v for k, v in d.items()}
