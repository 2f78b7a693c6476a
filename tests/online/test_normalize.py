"""Normalisation against evasion: each trick is undone, ordinary text and numbers are left alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narcotrace.online.normalize import normalize, transliterate


@pytest.mark.parametrize(("raw", "expected", "flag"), [
    ("с0ль", "соль", "digit_sub"),
    ("m3f", "mef", "digit_sub"),
    ("3акладки", "закладки", "digit_sub"),
    ("м3ф", "меф", "digit_sub"),
    ("з@кладки", "закладки", "digit_sub"),
    ("м.е.ф", "меф", "separators"),
    ("к л а д", "клад", "separators"),
    ("m-e-f", "mef", "separators"),
    ("м_е_ф", "меф", "separators"),
    ("к. л. а. д", "клад", "separators"),
    ("зак*ладки", "закладки", "separators"),
    ("мееееф", "меф", "stretched"),
    ("за\u200bкла\u200dдки", "закладки", "zero_width"),
    ("за\u00adкладки", "закладки", "zero_width"),
    ("ｍｅｆ", "mef", "fullwidth"),
    ("𝐦𝐞𝐟", "mef", "fullwidth"),
    ("мeф", "меф", "homoglyph"),          # Latin e in a Cyrillic word
    ("MEФ", "меф", "homoglyph"),          # Latin capitals M, E
    ("mеf", "mef", "homoglyph"),          # Cyrillic е in a Latin word
    ("ЗAKЛAДKИ", "закладки", "homoglyph"),
])
def test_each_evasion_is_undone_and_flagged(raw, expected, flag):
    n = normalize(raw)
    assert n.text == expected
    assert flag in n.flags


def test_emoji_become_meaning_tokens():
    n = normalize("Кристаллы ❄️💎🍁 в наличии 🔌")
    assert "emj_snow" in n.text and "emj_crystal" in n.text and "emj_leaf" in n.text and "emj_plug" in n.text
    assert "emoji" in n.flags
    # the tokens stand apart as words, so the lexicon can match them
    assert re.search(r"(?<!\w)emj_snow(?!\w)", n.text)


def test_emoji_variation_selector_is_not_a_zero_width_trick():
    assert "zero_width" not in normalize("Снег ❄️ идёт").flags


@pytest.mark.parametrize("plain", [
    "Цена 15 000 тг, 5г, 3грамма, 2шт, +7 701 123 45 67",
    "Встреча 22.11.2026 в 10:15, IP 192.168.1.1, версия 1.2.3",
    "ссылка на класс, www.site.kz, Аллах",  # legit doubles; "www" kept
    "и т.д. а в с",                                     # one-letter Russian words stay words
    "covid19, mp3, 24/7, 4x4, 15000тг",
    "shop@mail.ru пишите",
])
def test_ordinary_text_and_numbers_are_kept(plain):
    n = normalize(plain)
    assert n.text == plain.lower().replace("ё", "е")
    assert n.flags == set()


def test_legit_double_letters_survive_and_triples_squash():
    assert normalize("ссылка класс").text == "ссылка класс"
    assert normalize("классссс").text == "клас"  # 3+ repeats squash to one


def test_plain_text_is_lower_cased_with_identity_offsets():
    raw = "Привет, Мир! Ёлка"
    n = normalize(raw)
    assert n.text == "привет, мир! елка"
    assert n.flags == set()
    assert n.to_original(8, 11) == (8, 11)


def test_to_original_maps_spans_back_for_highlighting():
    raw = "Продам м.е.ф ❄️ и за\u200bкладки, мееееф"
    n = normalize(raw)
    for word, original in [("меф", "м.е.ф"), ("emj_snow", "❄"), ("закладки", "за\u200bкладки")]:
        i = n.text.index(word)
        a, b = n.to_original(i, i + len(word))
        assert raw[a:b] == original
    i = n.text.rindex("меф")
    a, b = n.to_original(i, i + 3)
    assert raw[a:b] == "мееееф"


def test_translit_view():
    n = normalize("zakladki shishki mef, sol'")
    assert n.translit == "закладки шишки меф, соль"
    assert transliterate("kladmen") == "кладмен"
    # emoji tokens are not transliterated
    assert "emj_snow" in normalize("❄️ snow").translit


def test_kazakh_letters_kept():
    assert normalize("Сатылады, жеткізу қала бойынша").text == "сатылады, жеткізу қала бойынша"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("мефзакладс0m3f.-_ *@ееe\u200bｍ❄️💎1й\u0306Ё")) | st.characters(),
               max_size=60))
def test_never_crashes_and_spans_stay_inside_the_original(raw):
    n = normalize(raw)
    for i in range(len(n.text)):
        a, b = n.to_original(i, i + 1)
        assert 0 <= a < b <= len(raw)  # every normalised character comes from some original text
    a, b = n.to_original(0, len(n.text))
    assert 0 <= a <= b <= len(raw)


@pytest.mark.parametrize("raw", [
    "Марки СССР 1960-х",                       # a real triple letter
    "реклама наркоshop-ов закрашена",          # a code-switched compound, not a homoglyph trick
    "пишите @akt_c0ur или t.me/+Xk3fQ9aZbLmN",  # handles and invite links are names
    "кошелёк TNnh7FuKVmEqJLJ4QNRequ7XQLTcyWxxqH",  # wallet addresses keep their digits
    "маршрут №10, Coca-Cola™",                 # compatibility symbols are not fancy letters
])
def test_no_false_evasion_flags(raw):
    n = normalize(raw)
    assert n.flags == set()
    assert n.text == raw.lower().replace("ё", "е").replace("№", "no").replace("™", "tm")


def test_latin_s_in_a_cyrillic_word_reads_as_es():
    assert normalize("sоль").text == "соль"


def test_accented_latin_folds_for_kazakh_latin_script():
    n = normalize("Baǵasy 17 myń teńge, tólem kún saıyn")
    assert n.text == "bagasy 17 myn tenge, tolem kun saiyn"
    assert n.to_original(0, 6) == (0, 6)  # folding keeps offsets one-to-one


def test_a_letter_with_a_combining_mark_is_composed_and_maps_back():
    text = "закладки\u0306 и мефедро\u0301н"  # "и" + breve, "о" + acute, as some keyboards and OCR write them
    n = normalize(text)
    assert "закладкй" in n.text and "мефедрон" in n.text
    s = n.text.index("мефедрон")
    assert text[slice(*n.to_original(s, s + len("мефедрон")))] == "мефедро\u0301н"
