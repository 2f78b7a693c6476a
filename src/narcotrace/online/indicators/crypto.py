"""Crypto addresses, each checksum-verified: BTC, ETH (EIP-55), TRON, LTC and Monero."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from narcotrace import codecs, identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, Scan

_B58 = "1-9A-HJ-NP-Za-km-z"
_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z])(?:0[xX][0-9a-fA-F]{{40}}"
    rf"|(?:bc1|BC1|ltc1|LTC1)[0-9A-Za-z]{{8,87}}"
    rf"|[{_B58}]{{25,106}})(?![0-9A-Za-z])")

# base58check version bytes -> chain and address type
_B58_VERSIONS = {
    0x00: ("btc", "p2pkh"), 0x05: ("btc", "p2sh"),  # LTC's legacy P2SH also used 0x05; read as BTC
    0x30: ("ltc", "p2pkh"), 0x32: ("ltc", "p2sh"),
    0x41: ("tron", "base58check"),
}

# ---- Monero: base58 in 8-byte blocks, Keccak-256 checksum ---------------------------------------

_XMR_FULL_BLOCK = 11
_XMR_BLOCK_SIZES = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}  # encoded -> decoded length
_XMR_PREFIXES = {18: "standard", 19: "integrated", 42: "subaddress"}


def _xmr_decode(address: str) -> bytes | None:
    out = bytearray()
    for i in range(0, len(address), _XMR_FULL_BLOCK):
        block = address[i:i + _XMR_FULL_BLOCK]
        size = _XMR_BLOCK_SIZES.get(len(block))
        if size is None:
            return None
        n = 0
        for ch in block:
            d = codecs.B58_ALPHABET.find(ch)
            if d < 0:
                return None
            n = n * 58 + d
        if n >= 1 << (8 * size):
            return None
        out += n.to_bytes(size, "big")
    return bytes(out)


def xmr_address_type(address: str) -> str | None:
    """"standard" / "integrated" / "subaddress" for a Monero mainnet address whose checksum holds."""
    if len(address) not in (95, 106) or address[0] not in "48":
        return None
    raw = _xmr_decode(address)
    if raw is None or len(raw) < 5:
        return None
    body, check = raw[:-4], raw[-4:]
    if codecs.keccak256(body)[:4] != check:
        return None
    return _XMR_PREFIXES.get(body[0])


@lru_cache(maxsize=65536)
def classify(address: str) -> tuple[str, str] | None:
    """(chain, address type) of a valid address, or None (cached: a shop repeats its wallets)."""
    low = address.lower()
    if low.startswith("0x"):
        return ("eth", "account") if codecs.eth_address_ok(address) else None
    if low.startswith("bc1"):
        r = codecs.segwit_decode("bc", address)
        return ("btc", f"segwit_v{r[0]}") if r else None
    if low.startswith("ltc1"):
        r = codecs.segwit_decode("ltc", address)
        return ("ltc", f"segwit_v{r[0]}") if r else None
    if len(address) in (95, 106):
        kind = xmr_address_type(address)
        return ("xmr", kind) if kind else None
    if 25 <= len(address) <= 35:
        payload = codecs.b58check_decode(address)
        if payload is None or len(payload) != 21:
            return None
        return _B58_VERSIONS.get(payload[0])
    return None


def address_indicator(address: str, start: int, end: int, **details: object) -> Indicator | None:
    """The crypto indicator for a checksum-valid address at [start, end), or None."""
    if address.isdigit() or address.isalpha() and address.islower():
        return None  # plain numbers and words are never addresses
    found = classify(address)
    if found is None:
        return None
    chain, kind = found
    value = address.lower() if kind.startswith("segwit") else address  # EIP-55 case kept as written
    return Indicator("crypto", value, identifiers.crypto(chain, value), chain, start, end, {"type": kind, **details})


# An address in a URL's path or query (a block explorer's page, a payment URI)
_IN_URL = re.compile(rf"(?<![0-9A-Za-z])(?:0[xX][0-9a-fA-F]{{40}}|[0-9A-Za-z]{{25,106}})(?![0-9A-Za-z])")


def addresses_in_url(url: str, start: int) -> Iterator[Indicator]:
    """Valid addresses inside a URL that starts at `start` in the text (spans are the addresses' own)."""
    for m in _IN_URL.finditer(url):
        ind = address_indicator(m.group(), start + m.start(), start + m.end(), in_url=True)
        if ind is not None:
            yield ind


class Crypto(Extractor):
    kind = "crypto"
    gate = hints.LONG_TOKEN

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _CANDIDATE.finditer(scan.text):
            if not scan.free(*m.span()):
                continue
            ind = address_indicator(m.group(), m.start(), m.end())
            if ind is not None:
                yield ind
