"""Contacts and payment details as people write them: phones, cards, handles, links, sites, wallets.

Each `*_seg` returns a `Seg` that carries its ground-truth indicator(s) (kind, normalised value and the
canonical id from narcotrace.identifiers), so the truth table is written from the very text of the post.
Synthetic numbers for ordinary people (no account in the world) are made here: Luhn-valid cards with
plausible Kazakh BINs, valid Kazakh mobiles and city landlines, checksum-valid crypto addresses.
"""

from __future__ import annotations

from narcotrace import codecs, identifiers
from narcotrace.sim.text.grammar import Rand, Seg

# Plausible BINs of banks in Kazakhstan (synthetic cards only; never a real person's number).
BINS = ("440043", "400303", "405645", "517792", "539545", "427611", "416958", "489993", "522987", "446375")
MOBILE = ("700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778")
LANDLINE = {"Алматы": "727", "Астана": "7172", "Шымкент": "7252", "Караганда": "7212", "Актобе": "7132",
            "Павлодар": "7182", "Усть-Каменогорск": "7232", "Тараз": "7262", "Атырау": "7122",
            "Костанай": "7142", "Кызылорда": "7242", "Актау": "7292", "Уральск": "7112", "Семей": "7222",
            "Петропавловск": "7152", "Талдыкорган": "7282", "Экибастуз": "7187"}


def indicator(kind: str, value: str, canonical: str, account_id: str | None = None,
              channel_id: str | None = None, chain: str | None = None) -> dict:
    return {"kind": kind, "value": value, "canonical_id": canonical, "account_id": account_id,
            "channel_id": channel_id, "chain": chain}


def digits(rnd: Rand, n: int) -> str:
    return "".join(str(rnd.below(10)) for _ in range(n))


def random_card(rnd: Rand) -> str:
    partial = rnd.choice(BINS) + digits(rnd, 9)
    return partial + codecs.luhn_check_digit(partial)


def random_mobile(rnd: Rand) -> str:
    return "+7" + rnd.choice(MOBILE) + digits(rnd, 7)


def random_landline(rnd: Rand, city: str) -> str:
    code = LANDLINE.get(city, "727")
    number = "+7" + code + str(2 + rnd.below(7)) + digits(rnd, 9 - len(code))
    return number if identifiers.phone(number) else random_mobile(rnd)


def format_card(card: str, rnd: Rand) -> str:
    style = rnd.below(10)
    groups = [card[i:i + 4] for i in range(0, 16, 4)]
    if style < 5:
        return " ".join(groups)
    if style < 7:
        return "-".join(groups)
    return card


def format_phone(e164: str, rnd: Rand) -> str:
    """+77011234567 written as a Kazakh would: +7 701 123 45 67, 8 (701) 123-45-67, 87011234567, ..."""
    n = e164[2:]  # national significant number, 10 digits
    a, b, c, d = n[:3], n[3:6], n[6:8], n[8:]
    styles = (f"+7 {a} {b} {c} {d}", f"+7 ({a}) {b}-{c}-{d}", f"8{n}", f"8 {a} {b} {c}{d}", e164,
              f"8 ({a}) {b} {c} {d}", f"+7-{a}-{b}-{c}-{d}", f"8-{a}-{b}-{c}-{d}", f"+7{a} {b}{c}{d}",
              f"+7 {a} {b}{c}{d}")
    return styles[rnd.below(len(styles))]


def card_seg(card: str, rnd: Rand, account_id: str | None = None, channel_id: str | None = None) -> Seg:
    return Seg(format_card(card, rnd), entity="bank_card",
               indicators=[indicator("card", card, identifiers.card(card), account_id, channel_id)])


def phone_seg(e164: str, rnd: Rand, account_id: str | None = None, channel_id: str | None = None) -> Seg:
    canonical = identifiers.phone(e164)
    if canonical is None:
        raise ValueError(f"not a valid phone number: {e164}")
    return Seg(format_phone(e164, rnd), entity="phone",
               indicators=[indicator("phone", e164, canonical, channel_id=channel_id, account_id=account_id)])


def mention_seg(handle: str, channel_id: str | None = None, account_id: str | None = None) -> Seg:
    handle = handle.lstrip("@")
    kind = "bot" if handle.lower().endswith("bot") else "telegram"
    return Seg("@" + handle, entity="mention",
               indicators=[indicator(kind, handle.lower(), identifiers.telegram(handle), account_id, channel_id)])


def tme_seg(handle: str, rnd: Rand, channel_id: str | None = None) -> Seg:
    handle = handle.lstrip("@")
    host = rnd.choice(("t.me", "t.me", "t.me", "https://t.me", "telegram.me", "https://telegram.me"))
    kind = "bot" if handle.lower().endswith("bot") else "telegram"
    return Seg(f"{host}/{handle}", entity="link",
               indicators=[indicator(kind, handle.lower(), identifiers.telegram(handle), channel_id=channel_id)])


def site_seg(domain: str, rnd: Rand, channel_id: str | None = None, path: str | None = None) -> Seg:
    """A site as written: bare domain, www. or a full URL; a www. or http(s) form is a URL as well as a domain
    (Telegram links both), a bare domain only a domain."""
    style = rnd.below(4)
    inds = [indicator("domain", domain.lower(), identifiers.domain(domain), channel_id=channel_id)]
    if style == 0:
        text = domain
    elif style == 1:
        text = "www." + domain
        inds.insert(0, indicator("url", text, "url:" + text, channel_id=channel_id))
    else:
        text = f"https://{domain}" + (f"/{path}" if path and style == 3 else "")
        inds.insert(0, indicator("url", text, "url:" + text, channel_id=channel_id))
    return Seg(text, entity="link", indicators=inds)


def onion_seg(onion: str, rnd: Rand, channel_id: str | None = None) -> Seg:
    host = onion if onion.endswith(".onion") else onion + ".onion"
    text = host if rnd.chance(0.5) else f"http://{host}"
    return Seg(text, entity="link", indicators=[indicator("onion", host.lower(), "onion:" + host.lower(),
                                                          channel_id=channel_id)])


def email_seg(address: str, channel_id: str | None = None) -> Seg:
    return Seg(address, entity="email",
               indicators=[indicator("email", address.lower(), identifiers.email(address), channel_id=channel_id)])


def wallet_seg(chain: str, address: str, rnd: Rand, account_id: str | None = None,
               channel_id: str | None = None) -> Seg:
    # Shops often put a wallet in monospace so it copies with one tap; Telegram has no wallet entity.
    entity = "code" if rnd.chance(0.4) else "plain"
    return Seg(address, entity=entity, indicators=[indicator("crypto", address, identifiers.crypto(chain, address),
                                                             account_id, channel_id, chain)])


def random_wallet(rnd: Rand) -> tuple[str, str]:
    """A checksum-valid address of a random chain: TRON (USDT-TRC20), BTC legacy or bech32, or ETH."""
    raw = bytes(rnd.below(256) for _ in range(20))
    kind = rnd.below(10)
    if kind < 4:
        return "tron", codecs.b58check_encode(b"\x41" + raw)
    if kind < 6:
        return "btc", codecs.b58check_encode(b"\x00" + raw)
    if kind < 8:
        return "btc", codecs.segwit_encode("bc", 0, raw)
    return "eth", codecs.eip55(raw.hex())
