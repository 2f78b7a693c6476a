"""Indicator extraction: every kind found, validated and normalised; the classic false positives avoided.

All identifiers are synthetic: cards are made Luhn-valid with codecs.luhn_check_digit, wallets are encoded
from hashes of made-up strings with the shared codecs, phones use the ranges of KZ operators.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from narcotrace import codecs
from narcotrace.online.indicators import EXTRACTOR_VERSION, as_contract, extract
from narcotrace.online.indicators.crypto import classify
from narcotrace.online.indicators.web import onion_v3_ok

# ---- synthetic identifiers -------------------------------------------------------------------------


def h(seed: str, n: int = 20) -> bytes:
    return hashlib.sha256(seed.encode()).digest()[:n]


def card(prefix: str = "440043", length: int = 16, seed: int = 1) -> str:
    rnd = random.Random(seed)
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + codecs.luhn_check_digit(body)


def btc_p2pkh(seed="a"):
    return codecs.b58check_encode(b"\x00" + h(seed))


def btc_p2sh(seed="b"):
    return codecs.b58check_encode(b"\x05" + h(seed))


def ltc_legacy(seed="c"):
    return codecs.b58check_encode(b"\x30" + h(seed))


def tron(seed="d"):
    return codecs.b58check_encode(b"\x41" + h(seed))


def bech(hrp="bc", ver=0, seed="e", n=20):
    return codecs.segwit_encode(hrp, ver, h(seed, n))


def eth(seed="f"):
    return codecs.eip55(hashlib.sha256(seed.encode()).hexdigest()[:40])


def _xmr_encode(raw: bytes) -> str:
    sizes = {0: 0, 1: 2, 2: 3, 3: 5, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11}
    out = []
    for i in range(0, len(raw), 8):
        block = raw[i:i + 8]
        n = int.from_bytes(block, "big")
        chars = []
        for _ in range(sizes[len(block)]):
            n, r = divmod(n, 58)
            chars.append(codecs.B58_ALPHABET[r])
        out.append("".join(reversed(chars)))
    return "".join(out)


def xmr(seed="g", prefix=18):
    body = bytes([prefix]) + hashlib.sha512(seed.encode()).digest()
    return _xmr_encode(body + codecs.keccak256(body)[:4])


def onion(seed="h"):
    pub = hashlib.sha256(seed.encode()).digest()
    check = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return base64.b32encode(pub + check + b"\x03").decode().lower()


def broken(address: str) -> str:
    """The same address with one character changed (checksum no longer holds)."""
    i = len(address) // 2
    alphabet = "23456789abcdefghijkmnpqrstuvwxyz" if address.lower() == address else "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    ch = next(c for c in alphabet if c != address[i])
    return address[:i] + ch + address[i + 1:]


def contract(text: str, **kw) -> dict:
    return as_contract(extract(text, **kw))


# ---- telegram --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "handles"), [
    ("Пишите @Shop_KZ24 или @mefkz_bot", ["shop_kz24", "mefkz_bot"]),
    ("t.me/almaty_klad, https://t.me/s/news_kz, telegram.me/OperatorKZ, tg://resolve?domain=kz_shop_bot",
     ["almaty_klad", "news_kz", "operatorkz", "kz_shop_bot"]),
    ("канал https://t.me/almaty_klad/125", ["almaty_klad"]),
    ("t . me / mefkz_shop и t[.]me/kz_plug", ["mefkz_shop", "kz_plug"]),
    ("телега: dark_store24, тг - @alma_shop", ["dark_store24", "alma_shop"]),
    ("оператор в тг @ kz_operator", ["kz_operator"]),
    ("Оператор: shop_op24, бот — kz_shop_bot", ["shop_op24", "kz_shop_bot"]),
    ("пиши @shор_kz (кириллические о и р)", ["shop_kz"]),
])
def test_telegram_handles(text, handles):
    assert contract(text)["telegram"] == handles


def test_bot_flag_and_canonical_id():
    [ind] = [i for i in extract("заказ через @AlmatyShopBot") if i.kind == "telegram"]
    assert ind.value == "almatyshopbot" and ind.details["is_bot"] and ind.canonical_id == "telegram:almatyshopbot"


@pytest.mark.parametrize("text", [
    "почта sales@shopkz.com",         # an e-mail is not a handle
    "meet me @ home tonight",          # English "at"
    "price @ 5000",
    "@ab too short",
    "telegram channel is great",       # a word after "telegram" is not a handle
    "Оператор: Айгерим, заказ - завтра",  # names and words after a label are not handles
    "Instagram: @alma_cakes, инста @sweet_kz, TikTok @dance_kz",  # other networks' accounts
    "t.me/joinchat/AAAAAEw3",          # an invite link, not a username
    "t.me/addstickers/kz_pack",
])
def test_telegram_false_positives(text):
    assert contract(text)["telegram"] == []


# ---- web -------------------------------------------------------------------------------------------


def test_urls_domains_emails():
    text = ("Сайт https://Shop-KZ.com/catalog?id=5, зеркало www.market-kz.net, просто alma-shop.kz "
            "и http://sub.foo.blogspot.com/x. Почта: Orders@Alma-Shop.kz")
    c = contract(text)
    assert c["urls"] == ["https://Shop-KZ.com/catalog?id=5", "www.market-kz.net", "http://sub.foo.blogspot.com/x"]
    assert c["domains"] == ["shop-kz.com", "market-kz.net", "alma-shop.kz", "foo.blogspot.com"]
    assert c["emails"] == ["orders@alma-shop.kz"]
    assert c["telegram"] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("WhatsApp: wa.me/77011234567", {"phones": ["+77011234567"]}),
    ("https://api.whatsapp.com/send?phone=77011234567&text=hi", {"phones": ["+77011234567"]}),
    ("канал t.me/+Xk3fQ9aZbLmN", {"urls": ["t.me/+Xk3fQ9aZbLmN"]}),
    ("страница vk.com/shop_kz и https://www.instagram.com/shop_kz/",
     {"urls": ["vk.com/shop_kz", "https://www.instagram.com/shop_kz/"]}),
    ("пишите в vk.com или instagram.com", {}),
])
def test_messenger_and_platform_links(text, expected):
    # platforms host everyone: their domains must never reach a blocklist; the page or contact does
    got = {k: v for k, v in contract(text).items() if v}
    assert got == expected


def test_cyrillic_domain():
    assert contract("магазин на сайт-закладки.рф")["domains"] == ["сайт-закладки.рф"]


@pytest.mark.parametrize("text", [
    "фото photo.jpg и файл report.pdf, setup.py, readme.md",
    "версия 1.2.3 и 3.14159, IP 192.168.100.200",
    "конец.Начало и the end.World",
    "продам.пишите в лс",
    "Ссылка на t.me выше",
])
def test_web_false_positives(text):
    c = contract(text)
    assert c["domains"] == [] and c["urls"] == [] and c["emails"] == []


def test_onion_v3_checksum():
    good = onion("shop")
    assert onion_v3_ok(good)
    assert not onion_v3_ok(broken(good))
    c = contract(f"Зеркало: {good}.onion, старое {broken(good)}.onion, сайт http://{onion('x')}.onion/market")
    assert c["domains"] == [f"{good}.onion", f"{onion('x')}.onion"]
    assert c["urls"] == [f"http://{onion('x')}.onion/market"]


# ---- phones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "+7 701 123 45 67", "+77011234567", "87011234567", "8 (701) 123-45-67", "8-701-123-45-67",
    "+7(701)1234567", "8 701 1234567", "701 123 45 67", "+7 701 123-45-67",
])
def test_kz_phone_formats(written):
    assert contract(f"Звоните {written} круглосуточно")["phones"] == ["+77011234567"]


def test_landline_and_foreign_phones():
    c = contract("Алматы +7 (727) 250-00-00, Лондон +44 20 7946 0958, Москва 8 (916) 123-45-67")
    assert c["phones"] == ["+77272500000", "+442079460958", "+79161234567"]


@pytest.mark.parametrize("text", [
    "Цена 15 000 000 тг",
    "Заказ №87011234567 отправлен",
    "трек 87011234567",
    "ИИН 900101300123",
    "22.11.2026 10:15:00",
    "timestamp 1700000000",
    "IP 192.168.100.200",
    "7 000 000 000 тг",
])
def test_phone_false_positives(text):
    assert contract(text)["phones"] == []


# ---- cards -----------------------------------------------------------------------------------------


def test_card_formats_and_issuer():
    n = card()
    spaced = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    dashed = "-".join(n[i:i + 4] for i in range(0, 16, 4))
    for written in (n, spaced, dashed):
        inds = [i for i in extract(f"Оплата на карту {written} Каспи") if i.kind == "card"]
        assert [i.value for i in inds] == [n]
        assert inds[0].details["issuer"] == "Kaspi Bank" and inds[0].details["scheme"] == "visa"
        assert inds[0].canonical_id == "card:" + n


def test_card_is_not_also_a_phone():
    n = card("539158", seed=7)
    spaced = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    c = contract(f"Карта {spaced} 8 701 123 45 67")
    assert c["cards"] == [n] and c["phones"] == ["+77011234567"]


def test_card_false_positives():
    n = card()
    bad = n[:-1] + str((int(n[-1]) + 1) % 10)
    order = card("1", seed=5)  # Luhn-valid by construction, but no card network starts with 1
    c = contract(f"Неверная {bad}, заказ {order}, пробел 4444 4444 4444 4448, "
                 f"дробь 4400.4300.1234.5678, дата 2026.11.22")
    assert c["cards"] == []


def test_unknown_prefix_still_a_card_when_written_like_one():
    n = card("1", seed=5)
    grouped = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    assert contract(f"Реквизиты {grouped}")["cards"] == [n]
    assert contract(f"Оплата на карту {n}")["cards"] == [n]


def test_amex_and_19_digit_cards():
    amex = card("37", 15, seed=3)
    long = card("6200", 19, seed=4)
    c = contract(f"amex {amex[:4]} {amex[4:10]} {amex[10:]} and unionpay {long}")
    assert c["cards"] == [amex, long]


@settings(max_examples=200, deadline=None)
@given(body=st.text("0123456789", min_size=15, max_size=15), sep=st.sampled_from(["", " ", "-"]),
       before=st.sampled_from(["Карта ", "card: ", "Оплата на карту ", "Kaspi Gold ", "картаға: "]),
       after=st.sampled_from(["", " Иван", ", пишите", ". Спасибо", " 8 701 123 45 67"]))
def test_every_luhn_valid_card_in_any_formatting_is_found(body, sep, before, after):
    n = body + codecs.luhn_check_digit(body)
    if len(set(n)) <= 2:
        return  # placeholders like 4444 4444 4444 4448 are skipped on purpose
    written = sep.join(n[i:i + 4] for i in range(0, 16, 4))
    c = contract(before + written + after)
    assert c["cards"] == [n]
    assert c["phones"] == (["+77011234567"] if "701" in after else [])


# ---- IBAN ------------------------------------------------------------------------------------------


def test_ibans():
    c = contract("Счёт KZ86125KZT5004100100, grouped KZ86 125K ZT50 0410 0100 и DE89 3704 0044 0532 0130 00.")
    assert c["ibans"] == ["KZ86125KZT5004100100", "DE89370400440532013000"]
    assert contract("Неверный KZ87125KZT5004100100")["ibans"] == []


def test_ibans_at_the_start_of_a_text_and_beside_handles():
    # the cheap first test skips "shop24bot"-like names (letters, two digits, glued to a word) without
    # skipping an IBAN at the very start of the text, after punctuation, or in a post full of such names
    assert contract("KZ86125KZT5004100100 — счёт")["ibans"] == ["KZ86125KZT5004100100"]
    assert contract("бот @darkdom24bot, счёт:KZ86 125K ZT50 0410 0100")["ibans"] == ["KZ86125KZT5004100100"]
    assert contract("бот @darkdom24bot, клад82, store777")["ibans"] == []


# ---- crypto ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "chain"), [
    (btc_p2pkh(), "btc"), (btc_p2sh(), "btc"), (bech("bc", 0), "btc"), (bech("bc", 0, n=32), "btc"),
    (bech("bc", 1, n=32), "btc"), (ltc_legacy(), "ltc"), (bech("ltc", 0), "ltc"), (tron(), "tron"),
    (eth(), "eth"), (eth().lower(), "eth"), (xmr(), "xmr"), (xmr("s", 42), "xmr"),
])
def test_valid_wallets(address, chain):
    c = contract(f"Оплата USDT/BTC на кошелёк {address} после заказа")
    assert c["crypto"] == [{"chain": chain, "address": address}]
    assert classify(address)[0] == chain


@pytest.mark.parametrize("address", [
    btc_p2pkh(), btc_p2sh(), bech("bc", 0), ltc_legacy(), tron(), eth(), xmr(),
])
def test_broken_checksums_are_rejected(address):
    assert contract(f"кошелёк {broken(address)}")["crypto"] == []


def test_bech32_v1_needs_bech32m():
    # a witness v1 program encoded with the v0 constant (bech32, not bech32m) is invalid (BIP-350)
    prog = codecs._convertbits(h("z", 32), 8, 5)
    values = codecs._hrp_expand("bc") + [1] + prog
    polymod = codecs._polymod(values + [0] * 6) ^ 1
    wrong = "bc1" + "".join(codecs.BECH32_CHARSET[d] for d in [1] + prog + [(polymod >> 5 * (5 - i)) & 31
                                                                             for i in range(6)])
    assert contract(wrong)["crypto"] == []


def test_words_and_hashes_are_not_wallets():
    c = contract("Transaction 0x" + "ab" * 32 + " and Supercalifragilisticexpialidocious1234 or "
                 "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT")
    assert c["crypto"] == []


# ---- metadata, contract shape, spans -------------------------------------------------------------


def test_telegram_entities_and_html_links_add_hidden_indicators():
    n = card(seed=9)
    entities = [{"type": "text_link", "text": "наш бот", "href": "https://t.me/hidden_shop_bot"},
                {"type": "bank_card", "text": n}, {"type": "mention", "text": "Lorem ipsum"},
                {"type": "email", "text": "not an email"}]
    inds = extract("Заказ через наш бот", entities=entities, links=["https://alma-shop.kz/price", "/relative"])
    c = as_contract(inds)
    assert c["telegram"] == ["hidden_shop_bot"] and c["cards"] == [n]
    assert c["urls"] == ["https://alma-shop.kz/price"] and c["domains"] == ["alma-shop.kz"]
    assert all(i.start == -1 for i in inds)


def test_bank_card_entity_with_an_unusual_prefix():
    n = card("9", seed=13)
    assert contract("оплата", entities=[{"type": "bank_card", "text": n}])["cards"] == [n]


def test_contract_shape_dedup_and_order():
    n = card(seed=11)
    c = contract(f"@Shop_A t.me/shop_a @shop_b {n} {n[:4]} {n[4:8]} {n[8:12]} {n[12:]} +77011234567 87011234567")
    assert list(c) == ["telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto"]
    assert c["telegram"] == ["shop_a", "shop_b"] and c["cards"] == [n] and c["phones"] == ["+77011234567"]


def test_spans_point_at_the_original_text():
    text = "Пиши @Shop_KZ24, карта 4400 4300 1234 5671? нет; https://alma.kz/x."
    for ind in extract(text):
        assert ind.start >= 0 and text[ind.start:ind.end]
    urls = [i for i in extract(text) if i.kind == "url"]
    assert text[urls[0].start:urls[0].end] == "https://alma.kz/x"
    assert EXTRACTOR_VERSION


@pytest.mark.parametrize("text", [
    "Свежие новости: полиция задержала курьера с 15 закладками, изъято 200 г мефедрона.",
    "Hair dryer Philips 2200W, price 15 000 tg, call later.",
    "Весна 2026 года, 3.5 млн тенге, рост 12,5%, 10:15-11:30, Абая 150/2 кв 12",
    "",
])
def test_posts_without_indicators(text):
    assert contract(text) == {"telegram": [], "urls": [], "domains": [], "emails": [], "phones": [], "cards": [],
                              "ibans": [], "crypto": []}


def test_disguised_indicators_are_folded_and_spans_point_at_the_original():
    n = card(seed=21)
    zw = "\u200b".join(n[i:i + 4] for i in range(0, 16, 4))
    text = f"ＡＭＦ, @ｋｓｔ_ａｍｆ, карта {zw}, @sh\u200bop_kz, @plain_kz ❄️"
    inds = extract(text)
    got = {(i.kind, i.value): (text[i.start:i.end], i.details.get("disguised", False)) for i in inds}
    assert got[("telegram", "kst_amf")] == ("@ｋｓｔ_ａｍｆ", True)
    assert got[("card", n)] == (zw, True)
    assert got[("telegram", "shop_kz")] == ("@sh\u200bop_kz", True)
    assert got[("telegram", "plain_kz")] == ("@plain_kz", False)
    [homoglyph] = [i for i in extract("пиши @shор_kz") if i.kind == "telegram"]
    assert homoglyph.value == "shop_kz" and homoglyph.details["disguised"]


def test_canonical_ids_come_from_the_shared_identifiers_module():
    from narcotrace import identifiers
    n = card(seed=31)
    text = (f"@Shop_KZ t.me/alma_bot https://alma-shop.kz/x sales@alma-shop.kz +7 701 123 45 67 {n} "
            f"KZ86125KZT5004100100 {btc_p2pkh()} {eth()} {tron()}")
    expected = {
        "telegram": identifiers.telegram, "domain": identifiers.domain, "email": identifiers.email,
        "phone": identifiers.phone, "card": identifiers.card, "iban": identifiers.iban,
    }
    inds = extract(text)
    assert {i.kind for i in inds} >= set(expected) | {"crypto", "url"}
    for ind in inds:
        if ind.kind in expected:
            assert ind.canonical_id == expected[ind.kind](ind.value)
        elif ind.kind == "crypto":
            assert ind.canonical_id == identifiers.crypto(ind.chain, ind.value)


def test_phones_after_a_number_that_ends_a_sentence():
    # one run of digits and separators: the price or list number before ". " is not part of the phone
    text = "Серебро 585, 35 г, ломбард. +7 708 488 01 35. 8 (778) 159 58 25 (Artyom)"
    found = [i for i in extract(text) if i.kind == "phone"]
    assert [i.value for i in found] == ["+77084880135", "+77781595825"]
    assert [text[i.start:i.end] for i in found] == ["+7 708 488 01 35", "8 (778) 159 58 25"]
    text = "Реабилитация, 24/7. 8 (707) 167 09 18"
    (phone,) = [i for i in extract(text) if i.kind == "phone"]
    assert text[phone.start:phone.end] == "8 (707) 167 09 18"
    assert contract("абонемент 19 500. 8 (778) 485 80 63")["phones"] == ["+77784858063"]
    assert contract("Цена 19 500. Скидка 10. Итого 17 550.")["phones"] == []


def test_phones_inside_long_digit_runs_and_huge_lines():
    table = "звоните 87011234567 87021234567 " + "1 2 3 4 5 6 7 8 9 0 " * 500 + " +7 701 765 43 21"
    assert contract(table)["phones"] == ["+77011234567", "+77021234567", "+77017654321"]
    assert contract("7" * 100_000 + " @shop_kz")["telegram"] == ["shop_kz"]


def test_wallets_in_block_explorer_and_payment_links():
    from narcotrace import codecs

    tron = codecs.b58check_encode(bytes([0x41]) + bytes(range(20)))
    btc = codecs.segwit_encode("bc", 0, bytes(range(20, 40)))
    c = as_contract(extract(f"Резерв: https://tronscan.org/#/address/{tron}, BTC mempool.space/address/{btc} "
                            f"и оплата https://shop-kz.top/pay/{tron}"))
    assert c["crypto"] == [{"chain": "tron", "address": tron}, {"chain": "btc", "address": btc}]
    assert c["domains"] == ["shop-kz.top"]  # explorers are nobody's shop
    assert f"https://tronscan.org/#/address/{tron}" in c["urls"]
    # a 40-hex commit id in a code-hosting link is not a wallet, and a checksum must hold
    c = as_contract(extract("https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567 "
                            "https://example.kz/a/TAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    assert c["crypto"] == []


def test_plus7_numbers_are_valid_by_their_first_six_digits():
    # `phones._plus7` validates one number per 6-digit prefix and trusts it for the rest: check that rule
    # against phonenumbers itself, for numbers under every 3-digit prefix and random longer ones.
    from narcotrace import identifiers
    from narcotrace.online.indicators import phones

    rnd = random.Random(77)
    numbers = [f"{a:03d}{rnd.randrange(10**7):07d}" for a in range(1000) for _ in range(3)]
    numbers += [f"{rnd.randrange(10**10):010d}" for _ in range(2000)]
    # and numbers that share a 6-digit prefix with one just checked
    numbers += [n[:6] + f"{rnd.randrange(10**4):04d}" for n in numbers[::7]]
    phones._PLUS7_VALID.clear()
    for n in numbers:
        canonical = identifiers.phone("+7" + n)
        got = phones._plus7(n)
        assert (got[0] if got else None) == (canonical.removeprefix("phone:") if canonical else None), n
    assert any(phones._plus7(n) for n in numbers) and not all(phones._plus7(n) for n in numbers)


def _keyed_patterns():
    from narcotrace.online.indicators import cards, phones, telegram

    return [phones._NOT_PHONE_BEFORE, cards._NOT_CARD_BEFORE, telegram._OTHER_NETWORK_BEFORE]


def _window_words(keyed) -> list[str]:
    """Words that the pattern's alternatives are made of, and near misses, to build windows from."""
    import re

    words = set(re.findall(r"[^\W\d_]+|[№#]|x\.com|s/n", keyed.pattern.pattern))
    return sorted(words | {w[:-1] for w in words if len(w) > 2} | {w + "ы" for w in words})


@pytest.mark.parametrize("keyed", _keyed_patterns(), ids=lambda k: k.keys.pattern[:12])
def test_keyed_window_patterns_answer_as_their_pattern(keyed):
    # the cheap key test only skips windows the pattern cannot match: same answers on windows built from the
    # pattern's own words, near misses, digits and separators, and on every window of the corpus' posts
    from narcotrace.online.train import TRAINING_DIR, load_posts

    rng = random.Random(7)
    words = _window_words(keyed) + ["пишите", "звоните", "номер", "number", "no.", "user", "клиента", "42"]
    seps = [" ", "", ": ", " - ", "\n", "\u00a0", ". ", "/", "@", "(", "№ "]
    windows = []
    for _ in range(20_000):
        windows.append("".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(1, 4))))
    texts = [p.text.lower() for p in load_posts(sorted(TRAINING_DIR.glob("*.jsonl")))[::3]]
    for t in texts:
        for end in range(0, len(t), 7):
            windows.append(t[max(0, end - 40):end])
    matched = 0
    for w in windows:
        for lo in (0, max(0, len(w) - 16)):
            want = keyed.pattern.search(w, lo)
            got = keyed.search(w, lo)
            assert (got and got.span()) == (want and want.span()), (w, lo)
            matched += want is not None
    assert matched > 500  # the windows did reach the pattern


def test_an_extractor_is_skipped_only_on_posts_where_it_finds_nothing():
    # each extractor's gate (hint bits) holds for every post on which the extractor, run on its own, finds an
    # indicator: on the training posts, and on pieces of every kind of indicator glued together at random
    from narcotrace.online.indicators import EXTRACTORS
    from narcotrace.online.indicators.base import Scan
    from narcotrace.online.train import TRAINING_DIR, load_posts

    rng = random.Random(11)
    pieces = ["https://shop.kz/menu", "shop.kz", "t.me/shop_kz", "t . me / shop_kz", "wa.me/77011234567",
              "a@b.kz", "@shop_kz", "телега: shop_kz", "оператор — shop_op24", "tg shop24", "4400 4312 3456 7896",
              "8 701 123 45 67", "+7 (701) 123-45-67", "KZ86 125K ZT50 0410 0100", "shop[.]kz", "shop (точка) kz",
              "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "x", " ", "\n"]
    onion = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
    texts = [p.text for p in load_posts(sorted(TRAINING_DIR.glob("*.jsonl")))]
    texts += ["".join(rng.choice(pieces + [onion]) for _ in range(rng.randint(1, 5))) for _ in range(3000)]
    found = {type(e).__name__: 0 for e in EXTRACTORS}
    for text in texts:
        for extractor in EXTRACTORS:
            scan = Scan(text)
            if list(extractor.extract(scan)):
                found[type(extractor).__name__] += 1
                assert not extractor.gate or scan.hints & extractor.gate, (type(extractor).__name__, text)
    assert all(found.values()), found  # every extractor found something somewhere
