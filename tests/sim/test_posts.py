"""The simulator's posts: contract fields, truthful indicators, ads naming active drops, hard negatives, obfuscation."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow.parquet as pq
import pytest

from narcotrace import codecs, identifiers
from narcotrace.sim.model import DropSpell, Shop, Wallet
from narcotrace.sim.posts import drug_categories, generate_posts, write_posts
from narcotrace.sim.text import load
from narcotrace.sim.text.obfuscate import TECHNIQUES

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
DAYS = 21
CITIES = ["Алматы", "Астана", "Шымкент", "Караганда"]
ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\ufeff")
KINDS_NONE = set(load("ordinary")["kinds"])


def _onion(seed: str) -> str:
    pub = hashlib.sha256(seed.encode()).digest()
    chk = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return base64.b32encode(pub + chk + b"\x03").decode().lower() + ".onion"


def _card(rng: np.random.Generator) -> str:
    partial = "440043" + "".join(str(x) for x in rng.integers(0, 10, 9))
    return partial + codecs.luhn_check_digit(partial)


def make_shops(rng: np.random.Generator, n: int = 6) -> list[Shop]:
    """Shops as the world generator makes them: rotating drops with cards and/or phones, some sites and wallets."""
    cats = drug_categories()
    langs = [["ru"], ["ru", "kk"], ["ru", "en"], ["kk", "ru"], ["en"], ["ru", "kk", "en"]]
    shops = []
    for i in range(n):
        drops, t, k = [], START - timedelta(days=3), 0
        while t < START + timedelta(days=DAYS):
            end = t + timedelta(days=int(rng.integers(3, 10)), hours=int(rng.integers(0, 24)))
            card = _card(rng) if rng.random() < 0.8 else None
            phone = "+7" + str(rng.choice(["701", "705", "747", "777"])) + "".join(str(x) for x in rng.integers(0, 10, 7))
            drops.append(DropSpell(f"a-{i}-{k}", card, phone if card is None or rng.random() < 0.5 else None, t, end))
            t, k = end, k + 1
        raw = bytes(rng.integers(0, 256, 20).tolist())
        wallets = [Wallet("tron", codecs.b58check_encode(b"\x41" + raw), f"w-{i}")] if i % 2 == 0 else []
        if i % 3 == 0:
            wallets.append(Wallet("btc", codecs.segwit_encode("bc", 0, raw), f"wb-{i}"))
        shops.append(Shop(
            shop_id=f"ch-{i + 1:04d}", brand=["Белый Кролик", "Snow Leopard", "Алмазный", "Kush KZ", "Телепорт",
                                               "Magnit24"][i % 6],
            handles=[f"rabbit{i}_kz", f"otzyvy{i}_rabbit"], bots=[f"rabbit{i}shop_bot"],
            domain=f"rabbit{i}.cc" if i % 2 == 0 else None, onion=_onion(f"s{i}") if i % 3 == 0 else None,
            cities=CITIES[:2] if i % 2 else CITIES[2:], langs=langs[i % len(langs)],
            drugs=list(rng.choice(cats, 3, replace=False)), drops=drops, wallets=wallets))
    return shops


def _world(seed: int, n_ordinary: int = 2500):
    shops = make_shops(np.random.default_rng(100 + seed))
    return shops, generate_posts(np.random.default_rng(seed), shops, start=START, days=DAYS, n_ordinary=n_ordinary,
                                 cities=CITIES)


@pytest.fixture(scope="module")
def world():
    return _world(5)


def test_same_seed_same_posts_other_seed_other_posts(world):
    _, res = world
    _, again = _world(5)
    assert [(p["id"], p["text"], p["date"], p["channel"]) for p in res.posts] == \
           [(p["id"], p["text"], p["date"], p["channel"]) for p in again.posts]
    assert res.indicators == again.indicators
    assert [(a.post_id, a.account_ids, a.prices) for a in res.ads] == [(a.post_id, a.account_ids, a.prices) for a in again.ads]
    _, other = _world(6)
    assert [p["text"] for p in other.posts[:50]] != [p["text"] for p in res.posts[:50]]


def test_every_post_has_the_contract_fields(world):
    shops, res = world
    cats = set(drug_categories())
    ids = [p["id"] for p in res.posts]
    assert ids == [f"p{i:07d}" for i in range(1, len(ids) + 1)]
    dates = [p["date"] for p in res.posts]
    assert dates == sorted(dates)
    assert START <= dates[0] and dates[-1] < START + timedelta(days=DAYS)
    for p in res.posts:
        for f in ("id", "text", "channel", "author", "date", "url", "label", "kind", "lang", "obfuscated",
                  "obfuscations", "shop_id", "categories", "city"):
            assert f in p, f
        assert p["text"].strip() and p["channel"] and p["author"]
        assert p["lang"] in ("ru", "kk", "en", "mixed")
        assert p["obfuscated"] is bool(p["obfuscations"])
        assert set(p["obfuscations"]) <= set(TECHNIQUES)
        assert set(p["categories"]) <= cats
        if p["label"] == "sale":
            assert p["kind"] == "sale_ad" and p["categories"] and p["shop_id"]
        elif p["label"] == "recruitment":
            assert p["kind"] == "recruitment" and p["shop_id"]
        else:
            assert p["label"] == "none" and p["kind"] in KINDS_NONE and p["shop_id"] is None
        if p["platform"] == "telegram" and p["url"]:
            assert re.fullmatch(r"https://t\.me/\w+/\d+", p["url"]) and p["url"].endswith(f"/{p['tg_message_id']}")
    labels = Counter(p["label"] for p in res.posts)
    assert labels["none"] == 2500 and labels["sale"] > 100 and labels["recruitment"] > 5


def _valid_crypto(chain: str, address: str) -> bool:
    if chain == "tron":
        raw = codecs.b58check_decode(address)
        return raw is not None and len(raw) == 21 and raw[0] == 0x41
    if chain == "btc":
        if address.lower().startswith("bc1"):
            return codecs.segwit_decode("bc", address) is not None
        raw = codecs.b58check_decode(address)
        return raw is not None and len(raw) == 21 and raw[0] in (0x00, 0x05)
    if chain == "eth":
        return codecs.eth_address_ok(address)
    return False


def _valid_onion(host: str) -> bool:
    label = host.removesuffix(".onion")
    if not re.fullmatch(r"[a-z2-7]{56}", label):
        return False
    raw = base64.b32decode(label.upper())
    pub, chk, ver = raw[:32], raw[32:34], raw[34:]
    return ver == b"\x03" and hashlib.sha3_256(b".onion checksum" + pub + ver).digest()[:2] == chk


def test_every_indicator_occurs_in_its_post_and_validates(world):
    _, res = world
    text = {p["id"]: p["text"] for p in res.posts}
    assert len(res.indicators) > len(res.posts) // 2
    for ind in res.indicators:
        span = text[ind["post_id"]][ind["span_start"]:ind["span_end"]]
        kind, value, canonical = ind["kind"], ind["value"], ind["canonical_id"]
        assert span, ind
        if kind == "card":
            assert re.sub(r"\D", "", span) == value and len(value) == 16 and codecs.luhn_ok(value)
            assert canonical == identifiers.card(value)
        elif kind == "phone":
            assert identifiers.phone(span) == canonical == "phone:" + value
        elif kind in ("telegram", "bot"):
            assert span.lower().rstrip("/").endswith(value) and re.fullmatch(r"[a-z0-9_]{5,32}", value)
            assert canonical == identifiers.telegram(value)
            assert (kind == "bot") == value.endswith("bot")
        elif kind == "crypto":
            assert span == value and _valid_crypto(ind["chain"], value)
            assert canonical == identifiers.crypto(ind["chain"], value)
        elif kind == "domain":
            assert value in span.lower() and canonical == identifiers.domain(value)
        elif kind == "url":
            assert span == value and value.startswith(("http://", "https://", "www."))
        elif kind == "onion":
            assert value in span and _valid_onion(value)
        elif kind == "email":
            assert span.lower() == value and canonical == identifiers.email(value)
        else:
            pytest.fail(f"unexpected indicator kind {kind}")


def test_ads_name_drops_of_their_shop_active_on_the_ad_date(world):
    shops, res = world
    by_shop = {s.shop_id: s for s in shops}
    post = {p["id"]: p for p in res.posts}
    inds: dict[str, list[dict]] = {}
    for i in res.indicators:
        inds.setdefault(i["post_id"], []).append(i)
    assert len(res.ads) == sum(p["label"] == "sale" for p in res.posts)
    for ad in res.ads:
        shop = by_shop[ad.shop_id]
        p = post[ad.post_id]
        assert p["label"] == "sale" and p["shop_id"] == ad.shop_id and ad.date == p["date"]
        assert ad.prices and all(v > 0 for v in ad.prices.values())
        drops = {d.account_id: d for d in shop.drops}
        for acc in ad.account_ids:
            d = drops[acc]
            assert d.start <= ad.date < d.end
            named = {(i["kind"], i["value"]) for i in inds.get(ad.post_id, []) if i["account_id"] == acc}
            assert named & {("card", d.card), ("phone", d.phone)}
        # Payment indicators in an ad point to its own accounts, and to no one else's.
        for i in inds.get(ad.post_id, []):
            if i["kind"] in ("card", "phone"):
                assert i["account_id"] in ad.account_ids and i["channel_id"] == ad.shop_id
    share = sum(bool(a.account_ids) for a in res.ads) / len(res.ads)
    assert 0.6 < share < 0.98, share


def test_every_drop_is_named_in_an_ad_while_active(world):
    shops, res = world
    named = {acc for ad in res.ads for acc in ad.account_ids}
    for shop in shops:
        for d in shop.drops:
            if d.end > START and d.start < START + timedelta(days=DAYS):
                assert d.account_id in named, d


def test_ordinary_posts_carry_cards_phones_and_handles_too(world):
    _, res = world
    kinds_by_post: dict[str, set[str]] = {}
    for i in res.indicators:
        kinds_by_post.setdefault(i["post_id"], set()).add(i["kind"])
    ordinary = [p for p in res.posts if p["label"] == "none"]
    sale = [p for p in res.posts if p["label"] == "sale"]

    def share(posts, kind):
        return sum(kind in kinds_by_post.get(p["id"], ()) for p in posts) / len(posts)

    assert share(ordinary, "phone") > 0.2
    assert share(ordinary, "card") > 0.03
    assert share(ordinary, "telegram") + share(ordinary, "bot") > 0.15
    assert share(ordinary, "crypto") > 0.01
    # Many more ordinary posts than ads carry a card: "has a card number" cannot find the ads.
    with_card = sum("card" in kinds_by_post.get(p["id"], ()) for p in ordinary)
    ad_with_card = sum("card" in kinds_by_post.get(p["id"], ()) for p in sale)
    assert with_card > 0.3 * ad_with_card
    # Hard negatives that speak of drugs, salt, hair dryers, stamps, pine cones, crystals, courier jobs.
    kinds = Counter(p["kind"] for p in ordinary)
    for k in ("seizure_news", "police_news", "prevention", "rehab", "pharmacy", "salt", "hairdryer", "stamps",
              "pine_cones", "crystals", "legal_courier_job", "crypto_chat", "lyrics", "marketplace", "city_chat"):
        assert kinds[k] > 0, k
    assert sum("меф" in p["text"].lower() or "гашиш" in p["text"].lower() for p in ordinary) > 20


def _fancy(ch: str) -> bool:
    return 0xFF01 <= ord(ch) <= 0xFF5E or 0x1D400 <= ord(ch) <= 0x1D7FF


def _mixed_script_word(text: str) -> bool:
    for word in re.findall(r"\w+", text):
        scripts = {unicodedata.name(c, "")[:5] for c in word if c.isalpha()} & {"LATIN", "CYRIL"}
        if len(scripts) == 2:
            return True
    return False


def _emoji(ch: str) -> bool:
    cp = ord(ch)
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF


def test_obfuscated_posts_really_differ_from_their_plain_form(world):
    _, res = world
    ads = [p for p in res.posts if p["label"] != "none"]
    rate = sum(p["obfuscated"] for p in ads) / len(ads)
    assert 0.25 <= rate <= 0.6, rate
    techniques = Counter(t for p in ads for t in p["obfuscations"])
    assert set(techniques) == set(TECHNIQUES), techniques
    for p in res.posts:
        if not p["obfuscated"]:
            assert p["text"] == p["plain_text"]
            continue
        assert p["text"] != p["plain_text"]
        obf = p["obfuscations"]
        if "zero_width" in obf:
            assert ZERO_WIDTH & set(p["text"])
        if "fullwidth" in obf:
            assert any(_fancy(c) for c in p["text"])
        if "homoglyph" in obf:
            assert _mixed_script_word(p["text"])
        if "emoji" in obf:
            assert any(_emoji(c) for c in p["text"])
    # Ordinary writers use fancy fonts and stretched words too, so those are not a tell on their own.
    assert sum(p["obfuscated"] for p in res.posts if p["label"] == "none") > 50


def test_template_vocabulary_has_no_accidental_homoglyphs():
    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)

    for name in ("common", "drugs", "sale", "recruitment", "ordinary"):
        for s in strings(load(name)):
            assert not _mixed_script_word(s), (name, s)


def test_wording_rarely_repeats_and_every_language_sells(world):
    _, res = world
    ads = [p for p in res.posts if p["label"] == "sale"]
    assert len({p["text"] for p in ads}) / len(ads) > 0.98
    lines = Counter(line.strip() for p in ads for line in p["plain_text"].splitlines() if len(line.strip()) > 25)
    assert lines.most_common(1)[0][1] < 0.05 * len(ads)
    assert {p["lang"] for p in ads} == {"ru", "kk", "en", "mixed"}
    ordinary = [p["text"] for p in res.posts if p["label"] == "none"]
    assert len(set(ordinary)) / len(ordinary) > 0.97


def test_write_posts_writes_jsonl_export_and_truth(world, tmp_path):
    _, res = world
    write_posts(res, tmp_path, csv=True)
    rows = [json.loads(line) for line in (tmp_path / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(res.posts)
    for row, p in zip(rows, res.posts):
        assert set(row) <= {"id", "text", "channel", "author", "date", "url"}
        assert {"id", "text", "channel", "author", "date"} <= set(row)
        assert row["text"] == p["text"] and row["id"] == p["id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["date"])
    truth = pq.read_table(tmp_path / "truth" / "posts.parquet").to_pylist()
    assert [t["post_id"] for t in truth] == [r["id"] for r in rows]
    assert {"label", "kind", "lang", "obfuscated", "obfuscations", "shop_id", "channel_id", "categories", "city",
            "tg_chat_id", "tg_message_id", "plain_text"} <= set(truth[0])
    ind = pq.read_table(tmp_path / "truth" / "indicators.parquet")
    assert ind.num_rows == len(res.indicators)
    assert {"post_id", "kind", "value", "canonical_id", "account_id", "channel_id"} <= set(ind.column_names)
    assert (tmp_path / "truth" / "posts.csv").exists() and (tmp_path / "truth" / "indicators.csv").exists()
    assert (tmp_path / "telegram" / "result.json").exists()


def test_ads_speak_their_shops_languages(world):
    shops, res = world
    langs = {s.shop_id: set(s.langs) for s in shops}
    for p in res.posts:
        if p["label"] != "none" and p["lang"] != "mixed":
            assert p["lang"] in langs[p["shop_id"]], (p["id"], p["lang"], langs[p["shop_id"]])


def test_wallets_are_named_by_their_own_coin(world):
    _, res = world
    text = {p["id"]: p["text"] for p in res.posts}
    wrong = {"tron": ("BTC", "Bitcoin", "ETH"), "btc": ("USDT", "TRX", "ETH"), "eth": ("BTC", "Bitcoin", "TRC")}
    for i in res.indicators:
        if i["kind"] == "crypto":
            before = text[i["post_id"]][max(0, i["span_start"] - 16):i["span_start"]]
            assert not any(w in before for w in wrong[i["chain"]]), (before, i["value"])
    for p in res.posts:
        assert p["text"] == p["text"].strip()
