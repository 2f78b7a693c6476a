"""The hand-written dev set of indicator extraction: per-kind precision and recall over varied real-style posts.

tests/fixtures/online/indicators_dev.jsonl holds posts written the ways shops write contacts and payment
details (ru/kk/en: URLs without a scheme or defanged, phones in every KZ layout, cards with any separators,
wallets of every chain) and hard negatives (orders, IINs, dates, prices, file names, masked cards, broken
checksums). Each line's "expected" is the `as_contract` object an analyst expects (non-empty keys only);
a "note" explains a conservative choice. All identifiers are synthetic (Luhn/base58check/bech32/EIP-55/onion
checksums made with narcotrace.codecs from random bytes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narcotrace import codecs
from narcotrace.online.indicators import as_contract, extract

DEV = Path(__file__).resolve().parents[1] / "fixtures" / "online" / "indicators_dev.jsonl"
KINDS = ("telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto")


def _lines() -> list[dict]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def _items(contract: dict, kind: str) -> set:
    values = contract.get(kind) or []
    if kind == "crypto":
        return {(v["chain"], v["address"]) for v in values}
    return set(values)


def score(lines: list[dict]) -> tuple[dict, dict]:
    """Per kind: (tp, fp, fn) counts, and the misses (false positives and negatives) with their line ids."""
    counts = {k: [0, 0, 0] for k in KINDS}
    misses: dict[str, list] = {k: [] for k in KINDS}
    for line in lines:
        got = as_contract(extract(line["text"]))
        for kind in KINDS:
            want, have = _items(line["expected"], kind), _items(got, kind)
            counts[kind][0] += len(want & have)
            counts[kind][1] += len(have - want)
            counts[kind][2] += len(want - have)
            misses[kind] += [(line["id"], "FP", v) for v in sorted(have - want, key=str)]
            misses[kind] += [(line["id"], "FN", v) for v in sorted(want - have, key=str)]
    return counts, misses


def test_dev_set_is_well_formed():
    lines = _lines()
    assert len(lines) >= 250
    assert len({line["id"] for line in lines}) == len(lines)
    assert sum(1 for line in lines if not line["expected"]) >= 80  # hard negatives
    for line in lines:
        assert set(line) <= {"id", "text", "expected", "note"} and set(line["expected"]) <= set(KINDS)
        for number in line["expected"].get("cards", []):
            assert codecs.luhn_ok(number)


@pytest.mark.parametrize("kind", KINDS)
def test_dev_set_precision_and_recall(kind):
    counts, misses = score(_lines())
    tp, fp, fn = counts[kind]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    detail = "\n".join(f"  {i} {what} {v}" for i, what, v in misses[kind])
    assert precision == 1.0, f"{kind}: precision {precision:.3f}\n{detail}"
    assert recall >= 0.98, f"{kind}: recall {recall:.3f} ({tp}/{tp + fn})\n{detail}"


if __name__ == "__main__":  # a per-kind table: python tests/online/test_indicators_dev.py
    counts, misses = score(_lines())
    for kind, (tp, fp, fn) in counts.items():
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        print(f"{kind:9} n={tp + fn:4}  P={p:.3f}  R={r:.3f}  (fp={fp}, fn={fn})")
    for kind in KINDS:
        for i, what, v in misses[kind]:
            print(kind, i, what, v)


# ---- focused tests of the fixes the dev set called for ---------------------------------------------------


def _card(prefix: str, seed: int) -> str:
    import random
    rnd = random.Random(seed)
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(15 - len(prefix)))
    return body + codecs.luhn_check_digit(body)


def contract(text: str) -> dict:
    return as_contract(extract(text))


def test_urls_end_at_emoji_dashes_and_curly_quotes():
    c = contract("меню https://snow-kz.top/menu🔥, “https://ice.kz/a” и https://kz-klad.shop/x—заходи")
    assert c["urls"] == ["https://snow-kz.top/menu", "https://ice.kz/a", "https://kz-klad.shop/x"]


def test_bare_hosts_in_capitals_punycode_and_prose():
    assert contract("ЗАХОДИ: KRISTALL-SHOP.COM")["domains"] == ["kristall-shop.com"]
    assert contract("зеркало xn--80aswg.xn--p1ai")["domains"] == ["xn--80aswg.xn--p1ai"]
    for prose in ("Вакансия ASP.NET", "Новости.Рф пишут", "Итак.Начнём", "пункты 1.kz 2.ru"):
        assert contract(prose)["domains"] == [], prose


def test_defanged_sites_give_the_domain_only():
    for written in ("snowshop[.]kz", "snowshop(.)kz", "snowshop[dot]kz", "snowshop (точка) kz", "snowshop dot kz",
                    "snowshop . kz", "hxxps://snowshop[.]kz/menu"):
        c = contract(f"сайт {written}, заходи")
        assert c["domains"] == ["snowshop.kz"] and c["urls"] == [], written
    assert contract("t[.]me/kz_plug")["telegram"] == ["kz_plug"] and contract("t[.]me/kz_plug")["domains"] == []
    # spoken dots only before a common shop suffix, after a Latin name
    for prose in ("конечная точка маршрута", "встреча в точка ру", "it is done . Top priority", "файл report[.]pdf"):
        assert contract(prose)["domains"] == [], prose


def test_phones_glued_to_words_with_letter_o_and_keycaps():
    assert contract("звони87071234567или87771234567")["phones"] == ["+77071234567", "+77771234567"]
    assert contract("тел 8 7O7 123 45 67 и 8 (7ОО) 123-45-67")["phones"] == ["+77071234567", "+77001234567"]
    text = "тел " + "".join(d + "\ufe0f\u20e3" for d in "87071234567") + " звоните"
    [ind] = [i for i in extract(text) if i.kind == "phone"]
    assert ind.value == "+77071234567" and text[ind.start:ind.end].startswith("8\ufe0f\u20e3")
    assert text[ind.start:ind.end].endswith("7") and ind.details.get("disguised")
    for not_phone in ("file_87071234567.jpg", "hash a87071234567", "ТОО «Снег» 7ООО тг", "ID пользователя 7071234567",
                      "трек-номер 87071234567", "Номер дела 7071234567"):
        assert contract(not_phone)["phones"] == [], not_phone


def test_loose_card_layouts_need_a_known_network():
    visa = _card("440043", 1)
    for written in (".".join(visa[i:i + 4] for i in range(0, 16, 4)), f"{visa[:8]} {visa[8:]}",
                    " 💳 ".join(visa[i:i + 4] for i in range(0, 16, 4)), "\u00a0".join(visa[i:i + 4] for i in range(0, 16, 4)),
                    "_".join(visa[i:i + 4] for i in range(0, 16, 4))):
        assert contract(f"оплата {written} спасибо")["cards"] == [visa], written
    assert contract(f"карта:\n{visa[:4]} {visa[4:8]}\n{visa[8:12]} {visa[12:]}")["cards"] == [visa]
    assert contract(f"итоги\n{visa[:4]} {visa[4:8]}\n{visa[8:12]} {visa[12:]}")["cards"] == []  # no card word
    other = _card("1", 2)  # Luhn-valid, no network starts with 1
    assert contract(".".join(other[i:i + 4] for i in range(0, 16, 4)))["cards"] == []
    assert contract(f"{other[:8]} {other[8:]}")["cards"] == []


def test_links_joined_by_a_comma_and_products_with_a_path():
    c = contract("https://snow-kz.top/menu,https://snow-kz.top/price")
    assert c["urls"] == ["https://snow-kz.top/menu", "https://snow-kz.top/price"]
    assert contract("https://a.kz/x?ids=1,2,3")["urls"] == ["https://a.kz/x?ids=1,2,3"]
    assert contract("Требуется ASP.NET/C# и Node.js/React")["domains"] == []


def test_telegram_word_after_a_phone_is_not_a_currency():
    assert contract("тел 87071234567 тг @snow_kz")["phones"] == ["+77071234567"]
    assert contract("бюджет 87 071 234 567 тг")["phones"] == []


def test_device_numbers_are_not_cards():
    imei = "3545509940700" + "3"
    imei = imei[:14] + codecs.luhn_check_digit(imei[:14])
    assert contract(f"Продам телефон, IMEI {imei}")["cards"] == []
    serial = _card("440043", 5)
    assert contract(f"S/N: {serial}")["cards"] == [] and contract(f"карта {serial}")["cards"] == [serial]


def test_spoken_dots_in_prose_are_not_sites():
    c = contract("the dot com bubble; Dot Com era; we use dot net; meet at the dot org; about dot com")
    assert c["domains"] == []
    assert contract("сайт snowshop dot kz")["domains"] == ["snowshop.kz"]
    assert contract("конечная точка kz-маршрута, точка сбора")["domains"] == []


def test_hosts_after_markdown_or_a_broken_scheme_and_glued_latin_contact_words():
    assert contract("Сайт: __snow-qar.kz__")["domains"] == ["snow-qar.kz"]
    assert contract("http//snow-almaty.xyz")["domains"] == ["snow-almaty.xyz"]
    assert contract("ник snow_kz.top и файл my__notes.txt")["domains"] == []
    assert contract("Tel87071234567, WhatsApp+77771234567")["phones"] == ["+77071234567", "+77771234567"]
    assert contract("hash ab87071234567 и x_87071234567")["phones"] == []
