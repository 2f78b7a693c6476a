"""The lexicon: bundled YAML loads and validates, matches inflections, translit and obfuscation, and users
extend it with their own files (bad files get a message naming file and entry)."""

from __future__ import annotations

import pytest

from narcotrace.errors import UserError
from narcotrace.online.lexicon import CATEGORIES, KINDS, Lexicon, categories
from narcotrace.online.normalize import normalize


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


def found(lex: Lexicon, text: str) -> dict[str, str]:
    """matched surface text -> term kind"""
    n = normalize(text)
    return {n.text[m.start:m.end]: m.kind for m in lex.match(n)}


def test_bundled_files_cover_languages_kinds_and_categories(lex):
    langs = {t.lang for t in lex.terms}
    assert {"ru", "kk", "en", "emoji"} <= langs
    kinds = {t.kind for t in lex.terms}
    assert kinds == set(KINDS)
    cats = {t.category for t in lex.terms if t.category}
    for needed in ("cathinones", "alpha_pvp", "amphetamine", "cocaine", "cannabis", "opioids", "psychedelics",
                   "mdma", "synthetic_cannabinoids", "prescription_pills"):
        assert needed in cats
    assert cats <= set(CATEGORIES)
    assert all(t.weight < 0 for t in lex.terms if t.kind == "negative_context")
    assert lex.version.startswith("lex-")


@pytest.mark.parametrize(("text", "surface", "kind"), [
    ("Свежие закладки по городу", "закладки", "delivery"),
    ("оставил закладку", "закладку", "delivery"),
    ("ищем кладменов", "кладменов", "recruitment"),
    ("есть шишки и бошки", "бошки", "drug"),
    ("качественный мефедрон", "мефедрон", "drug"),
    ("работа курьером, без залога", "без залога", "recruitment"),
    ("курьер керек, күнделікті төлем", "күнделікті төлем", "recruitment"),
    ("dm me for prices, plug in town", "plug", "sale"),
    ("Поваренная соль 1 кг", "поваренная соль", "negative_context"),
    ("фен для волос Philips", "фен для волос", "negative_context"),
    ("почтовые марки СССР", "почтовые марки", "negative_context"),
    ("сосновые шишки для поделок", "сосновые шишки", "negative_context"),
    ("полиция изъяла партию", "изъяла", "negative_context"),
])
def test_terms_match_with_inflections(lex, text, surface, kind):
    assert found(lex, text).get(surface) == kind


def test_word_boundaries(lex):
    # "меф" must not fire inside another word, nor "клад" inside "кладбище"/"кладовка"
    assert "меф" not in found(lex, "мефистофель")
    assert not any(k.startswith("клад") for k in found(lex, "кладбище и кладовка"))


@pytest.mark.parametrize(("text", "term"), [
    ("zakladki", "закладк*"),
    ("shishki v nalichii", "шишк*"),
    ("mef", "меф"),
    ("kladmen", "кладмен*"),
    ("satylady", "сатылады"),
])
def test_translit_matches_flag_the_post(lex, text, term):
    n = normalize(text)
    matches = lex.match(n)
    assert term in [m.term for m in matches]
    assert any(m.translit for m in matches)
    assert "translit" in n.flags


def test_obfuscated_posts_match_after_normalisation(lex):
    n = normalize("Пр0дам м.е.ф, 3AKЛAДKИ ❄️ мееееф")
    terms = [m.term for m in lex.match(n)]
    assert terms.count("меф") == 2 and "закладк*" in terms and "emj_snow" in terms


def test_short_words_that_collide_with_english_do_not_translit(lex):
    assert "мет" not in [m.term for m in lex.match(normalize("we met at the plan"))]


def test_longest_phrase_wins_over_its_words(lex):
    n = normalize("поваренная соль")
    assert [m.term for m in lex.match(n)] == ["поваренн* сол*"]


def test_regex_terms_and_spans(lex):
    n = normalize("1г - 15000тг")
    kinds = [(n.text[m.start:m.end], m.kind) for m in lex.match(n)]
    assert ("1г", "price") in kinds


def test_categories_strongest_first(lex):
    ms = lex.match(normalize("меф, мефедрон и немного шишек ❄️"))
    cats = categories(ms)
    assert cats[0] == "cathinones" and "cannabis" in cats
    # negative context never names a category
    assert categories(lex.match(normalize("поваренная соль"))) == []


def test_user_lexicon_extends_and_changes_version(tmp_path, lex):
    extra = tmp_path / "mine.yaml"
    extra.write_text("lang: ru\nterms:\n  - {term: снежинк*, kind: drug, category: cocaine, weight: 1.2, "
                     "note: local slang}\n  - {regex: 'опт\\s+от\\s+\\d+', kind: sale, weight: 0.5}\n", encoding="utf-8")
    mine = Lexicon.load([extra])
    assert mine.version != lex.version
    n = normalize("Снежинки есть, опт от 50")
    assert {m.term for m in mine.match(n)} >= {"снежинк*", "/опт\\s+от\\s+\\d+/"}
    assert not any(m.term == "снежинк*" for m in lex.match(n))


def test_version_is_stable(lex):
    assert Lexicon.load().version == lex.version


@pytest.mark.parametrize(("body", "message"), [
    ("lang: ru\nterms:\n  - {term: x, kind: drugs}\n", "term #1 ('x'): kind 'drugs' is not one of"),
    ("lang: ru\nterms:\n  - {term: y, kind: drug, category: meth}\n", "category 'meth'"),
    ("lang: ru\nterms:\n  - {regex: '(', kind: drug}\n", "invalid regular expression"),
    ("lang: ru\nterms:\n  - {kind: drug}\n", "exactly one of 'term' or 'regex'"),
    ("lang: ru\nterms:\n  - {regex: '(?P<x>a+)', kind: drug}\n", "named groups are not allowed"),
    ("lang: ru\nterms:\n  - {regex: 'a*', kind: drug}\n", "matches the empty string"),
    ("lang: ru\nterms:\n  - {term: z, kind: drug, weight: lots}\n", "weight must be a number"),
    ("lang: ru\nterms:\n  - {term: z, kind: drug, colour: red}\n", "unknown field"),
    ("terms:\n  - {term: z, kind: drug}\n", "no 'lang'"),
    ("just text", "a lexicon file is a mapping"),
    ("lang: ru\nterms: [\n", "not a valid UTF-8 YAML"),
    ("lang: emoji\nemoji:\n  - {char: x, token: emj_x}\n", "'emoji:' lists are bundled only"),
])
def test_bad_user_files_are_named_in_the_error(tmp_path, body, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(body, encoding="utf-8")
    with pytest.raises(UserError) as e:
        Lexicon.load([bad])
    assert str(bad) in str(e.value) and message in str(e.value)


def test_missing_user_file(tmp_path):
    with pytest.raises(UserError, match="cannot read lexicon file"):
        Lexicon.load([tmp_path / "nope.yaml"])


def test_english_words_keep_their_own_meaning(lex):
    n = normalize("Sneaker drop this Friday at the shop, Telegram channel")
    matches = lex.match(n)
    assert not any(m.translit for m in matches)
    assert "translit" not in n.flags
    drop = [m for m in matches if n.text[m.start:m.end] == "drop"]
    assert drop and drop[0].lang == "en"


def test_handles_spelling_words_do_not_flag_translit(lex):
    n = normalize("отзывы @otzyv_mix")
    lex.match(n)
    assert "translit" not in n.flags


def test_kazakh_latin_script_posts_match(lex):
    n = normalize("Kýrer kerek! Bir mekenjaıǵa 2000 tg, tólem kún saıyn. Tájirıbe qajet emes.")
    terms = {m.term for m in lex.match(n)}
    assert {"курьер керек", "мекенжайға", "төлем*", "тәжірибе қажет емес"} <= terms
