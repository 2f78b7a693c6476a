"""The post classifier: labels, calibrated scores, categories, explanations mapped to the original text,
the shipped model file, and the guard that keeps the held-out set out of training."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from narcotrace.errors import UserError
from narcotrace.online.classify import (
    MODELS_DIR,
    analyse,
    label_from_proba,
    load_model,
    shipped_model_path,
)
from narcotrace.online.lexicon import Lexicon
from narcotrace.online.ngrams import hash_batch

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "data" / "heldout"


@pytest.fixture(scope="module")
def lex():
    return Lexicon.load()


@pytest.fixture(scope="module")
def model():
    return load_model()


def classify(model, lex, texts):
    return model.classify([analyse(t, lex) for t in texts])


def test_shipped_model_is_small_versioned_and_has_a_card():
    path = shipped_model_path()
    assert path.parent == MODELS_DIR
    assert path.stat().st_size < 5 * 2**20
    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["version"] in path.name
    assert load_model().version == card["version"]
    assert card["training_counts"]["handwritten"]["sale"] > 100
    assert 0 < card["threshold"] < 1
    assert card["cv_metrics_handwritten"]["f1"] > 0.85


def test_obvious_sale_recruitment_and_lookalike(model, lex):
    sale, rec, dryer, news = classify(model, lex, [
        "Меф 1г 15000 тг, клад магнит, Алматы. Пиши @shop_kz_test, карта 4400 4301 2345 6789",
        "Работа курьером-закладчиком, 300 000 тг в неделю, оплата за каждый клад, пиши @rabota_kladmen",
        "Продам фен для волос Philips, почти новый, 8000 тг",
        "Полиция изъяла 2 кг мефедрона в Алматы, задержаны трое закладчиков",
    ])
    assert sale.label == "sale" and sale.score > 0.9
    assert "mephedrone" in sale.categories
    assert rec.label == "recruitment" and rec.score > 0.5
    assert dryer.label == "none" and dryer.score < 0.2 and dryer.categories == []
    assert news.label == "none"
    for r in (sale, rec, dryer, news):
        assert 0.0 <= r.score <= 1.0
        assert abs(sum(r.probabilities.values()) - 1.0) < 1e-6
        assert abs(r.score - (1.0 - r.probabilities["none"])) < 1e-9


def test_explanation_spans_point_into_the_original_text(model, lex):
    text = "З\u200bакладки м.е.ф 𝐦𝐞𝐟 в наличии, пиши @kladmen_shop"
    (r,) = classify(model, lex, [text])
    assert r.label == "sale"
    assert r.explanation, "a flagged post must say why"
    for e in r.explanation:
        assert set(e) == {"feature", "weight", "span", "text"}
        if e["span"] is not None:
            s, t = e["span"]
            assert 0 <= s < t <= len(text)
            assert e["text"] == text[s:t]
    features = [e["feature"] for e in r.explanation]
    assert any(f.startswith("lexicon:") for f in features)
    # the strongest reasons push towards sale
    assert r.explanation[0]["weight"] > 0
    # obfuscated drug name is highlighted as written, not as normalised
    texts = [e["text"] for e in r.explanation if e["span"]]
    assert any("м.е.ф" in t or "𝐦𝐞𝐟" in t or "З\u200bакладки" in t for t in texts)


def test_unremarkable_posts_get_a_short_explanation_without_spans(model, lex):
    from narcotrace.online.classify import EXPLAIN_FULL_FROM, EXPLAIN_TOP_CHEAP

    dryer, sale = classify(model, lex, ["Продам фен для волос Philips, почти новый, 8000 тг",
                                        "Меф 1г 15000 тг, клад магнит, Алматы. Пиши @shop_kz_test"])
    assert dryer.score < EXPLAIN_FULL_FROM <= sale.score
    assert 0 < len(dryer.explanation) <= EXPLAIN_TOP_CHEAP
    for e in dryer.explanation:
        assert set(e) == {"feature", "weight", "span", "text"} and e["span"] is None
    # the weights are the features' real contributions: they explain why the score stayed low
    assert min(e["weight"] for e in dryer.explanation) < 0
    assert any(e["span"] is not None for e in sale.explanation)


def test_threshold_decides_the_label():
    proba = np.array([[0.4, 0.1, 0.5], [0.9, 0.05, 0.05], [0.3, 0.5, 0.2]])
    assert label_from_proba(proba, 0.5) == ["sale", "none", "recruitment"]
    assert label_from_proba(proba, 0.65) == ["none", "none", "recruitment"]


def test_ngrams_positions_and_tokens():
    texts = ["меф 15000 тг", "", "a  b\nc"]
    h = hash_batch(texts, 2**16, 2**12)
    assert set(h.char_doc.tolist()) == {0, 2}  # the empty post has none
    for d, s in zip(h.char_doc.tolist(), h.char_start.tolist()):
        assert 0 <= s < len(texts[d])
    for d, s, e in zip(h.tok_doc.tolist(), h.tok_start.tolist(), h.tok_end.tolist()):
        assert texts[d][s:e] in texts[d].split()
    assert [texts[d][s:e] for d, s, e in zip(h.word_doc.tolist(), h.word_start.tolist(), h.word_end.tolist())
            if d == 0] == ["меф", "15000", "тг", "меф 15000", "15000 тг"]
    # digits fold: two prices hash alike; same input, same columns
    a = hash_batch(["15000 тг"], 2**16, 2**12)
    b = hash_batch(["17000 тг"], 2**16, 2**12)
    assert sorted(a.char_col.tolist()) == sorted(b.char_col.tolist())
    assert hash_batch(texts, 2**16, 2**12).char_col.tolist() == h.char_col.tolist()


def test_a_post_hashes_the_same_alone_in_a_batch_and_after_a_long_page():
    # the batch's hash powers are kept between batches up to a size and computed beyond it: a post's
    # columns must not depend on which, nor on where in the batch the post sits
    from narcotrace.online import ngrams

    post = "Меф 1г 15000 тг, клад магнит, пиши @shop_kz"
    alone = hash_batch([post], 2**16, 2**12)
    page = "длинная страница " * ((ngrams._POWERS_KEPT // 17) + 10)
    after = hash_batch([page, post], 2**16, 2**12)
    for kind in ("char", "word"):
        mine = getattr(after, f"{kind}_doc") == 1
        assert getattr(after, f"{kind}_col")[mine].tolist() == getattr(alone, f"{kind}_col").tolist()
    # non-power-of-two bucket counts take the modulo path and stay within range
    odd = hash_batch([post], 1000, 999)
    assert 0 <= odd.char_col.min() and odd.char_col.max() < 1000 and odd.word_col.max() < 999


def test_training_refuses_the_heldout_set(tmp_path):
    from narcotrace.online.train import load_posts, refuse_heldout, train

    with pytest.raises(UserError, match="held-out"):
        refuse_heldout(HELDOUT / "posts.jsonl")
    with pytest.raises(UserError, match="held-out"):
        load_posts([HELDOUT / "posts.jsonl"])
    for stranger in ("other_writer", "third_writer"):
        with pytest.raises(UserError, match="held-out"):
            load_posts([HELDOUT / stranger / "posts.jsonl"])
    with pytest.raises(UserError, match="held-out"):
        train(tmp_path / "m.joblib", extra_posts=[HELDOUT / "posts.jsonl"])
    with pytest.raises(UserError, match="held-out"):
        train(tmp_path / "m.joblib", sim_worlds=[HELDOUT])
    assert not (tmp_path / "m.joblib").exists()


def test_heldout_posts_are_not_in_the_training_data():
    from narcotrace.online.train import handwritten_posts

    train = handwritten_posts()
    ids = {p.id for p in train}
    texts = {" ".join(p.text.lower().split()) for p in train}
    for path, least in ((HELDOUT / "posts.jsonl", 400), (HELDOUT / "other_writer" / "posts.jsonl", 400),
                        (HELDOUT / "third_writer" / "posts.jsonl", 400)):
        held = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        assert len(held) >= least, path
        assert not [h["id"] for h in held if h["id"] in ids], path
        assert not [h["id"] for h in held if " ".join(h["text"].lower().split()) in texts], path
        assert {h["label"] for h in held} == {"sale", "recruitment", "none"}, path


def test_heldout_file_matches_its_sources():
    r = subprocess.run([sys.executable, str(HELDOUT / "tools" / "build.py"), "--verify"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_train_writes_a_model_that_classifies(tmp_path, lex):
    from narcotrace.online.classify import PostClassifier
    from narcotrace.online.train import train

    report = train(tmp_path / "small.joblib", C=0.5, folds=2,
                   decisions=[("d1", "Новый шишкарь: сосновые шишки для декора, 500 тг за мешок", "none")])
    assert report.path.exists() and report.path.with_suffix(".json").exists()
    assert report.counts["decision"] == {"none": 1}
    m = PostClassifier.load(report.path)
    assert m.version == report.version
    (r,) = m.classify([analyse("Кристаллы альфа пвп 1г 12000, закладки магнитом, бот @alfa_kz_bot", lex)])
    assert r.label == "sale"


def test_the_scoring_only_model_classifies_exactly_as_the_full_model(model, lex):
    # scan's workers read the model with stand-ins for its scikit-learn objects: the same probabilities to the
    # bit, labels, categories and explanations as the model loaded in full, on every held-out post
    from narcotrace.textcore import KERNELS

    if KERNELS is None:
        pytest.skip("the compiled kernels are not built: scan loads the full model")
    light = load_model(scoring_only=True)
    assert light.scoring_only and not model.scoring_only and light.version == model.version
    texts = [json.loads(line)["text"] for line in (HELDOUT / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    batch = [analyse(t, lex) for t in texts]
    full, fast = model.classify(batch), light.classify(batch)
    assert [r.probabilities for r in fast] == [r.probabilities for r in full]
    assert [(r.label, r.categories, r.explanation) for r in fast] == [(r.label, r.categories, r.explanation)
                                                                    for r in full]
    assert {r.label for r in fast} == {"sale", "recruitment", "none"}


def test_loading_the_scoring_only_model_does_not_import_scikit_learn(tmp_path):
    code = ("import sys; from narcotrace.online.classify import load_model; from narcotrace.textcore import KERNELS;"
            "m = load_model(scoring_only=True); print(KERNELS is not None, m.scoring_only, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out[0] == "False":
        pytest.skip("the compiled kernels are not built: scan loads the full model")
    assert out[1:] == ["True", "False"]


def test_a_model_file_with_other_scikit_learn_objects_is_loaded_in_full(tmp_path):
    # a model file holding scikit-learn objects that have no stand-in (here a scaler) is not read with
    # stand-ins; scan then loads it in full
    from narcotrace.online.classify import PostClassifier

    m = PostClassifier.load(shipped_model_path())
    from sklearn.preprocessing import StandardScaler

    m.model_.extra = StandardScaler()
    path = tmp_path / "other.joblib"
    m.save(path, dict(m.card, version="other"))
    loaded = load_model(path, scoring_only=True)
    assert not loaded.scoring_only and loaded.version == "other"


def test_lexicon_arrays_stay_right_when_the_term_table_is_cleared(lex, monkeypatch):
    # the term table is cleared when it grows past its bound, between batches only: every match keeps its own
    # kind, category and column whatever the table held before
    from narcotrace.online import classify as cl

    batch = [analyse(t, lex) for t in ("Мефедрон 1г 12000 тг, закладки магнитом", "шишки бошки 2г, клад",
                                       "фен и соль, работа курьером 100к в неделю")]
    want = cl.lex_arrays(batch, 8192)
    # the table's three parts are the module's; each is put back as it was after the test
    monkeypatch.setattr(cl, "_MATCH_INFO", dict(cl._MATCH_INFO))
    monkeypatch.setattr(cl, "_MATCH_ARRAY", cl._MATCH_ARRAY)
    for _ in range(3):
        monkeypatch.setattr(cl, "_MATCH_ROWS", cl._MATCH_ROWS + [(0, 0, 0)] * 100_001)  # past the bound
        cl._MATCH_INFO.pop(batch[-1].matches[-1][:4], None)  # a term met again only after the others
        got = cl.lex_arrays(batch, 8192)
        for f in ("doc", "kind", "weight", "cat", "col"):
            assert getattr(got, f).tolist() == getattr(want, f).tolist()
        assert len(cl._MATCH_ROWS) < 1000
