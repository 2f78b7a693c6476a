"""Check-digit and address codecs shared by the simulator (which makes valid ids) and the extractors
(which validate them): Luhn, base58check, bech32/bech32m (BIP-173/350), EIP-55 (Keccak-256), Tor onion v3."""

from __future__ import annotations

import base64
import hashlib

from Crypto.Hash import keccak

# ---- Luhn (bank cards) -------------------------------------------------------------------------


# Luhn's doubled digit, by the byte of an ASCII digit: 2d, less 9 when that is above 9
_LUHN_DOUBLE = bytes.maketrans(b"0123456789", bytes((2 * d - 9 if d > 4 else 2 * d) for d in range(10)))


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 12:
        return False
    if digits.isascii():  # sums of bytes, no loop in Python
        b = digits.encode()
        plain = b[-1::-2]
        return (sum(plain) - 48 * len(plain) + sum(b[-2::-2].translate(_LUHN_DOUBLE))) % 10 == 0
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return d
    raise AssertionError("unreachable")


# ---- base58check (BTC legacy, LTC, TRON) -------------------------------------------------------

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(B58_ALPHABET[r])
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes | None:
    n = 0
    for c in text:
        i = _B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def _dsha256(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + _dsha256(payload)[:4])


def b58check_decode(text: str) -> bytes | None:
    """The payload (version byte(s) + data) if the checksum holds, else None."""
    raw = b58decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    return payload if _dsha256(payload)[:4] == check else None


# ---- bech32 / bech32m (BTC segwit, LTC segwit) -------------------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: bytes | list[int], frombits: int, tobits: int, pad: bool = True) -> list[int] | None:
    acc = bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def segwit_encode(hrp: str, witver: int, program: bytes) -> str:
    const = _BECH32_CONST if witver == 0 else _BECH32M_CONST
    data = [witver] + (_convertbits(program, 8, 5) or [])
    values = _hrp_expand(hrp) + data
    polymod = _polymod(values + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def segwit_decode(hrp: str, addr: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a valid segwit address for this human-readable part, else None."""
    if addr.lower() != addr and addr.upper() != addr:
        return None
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90 or addr[:pos] != hrp:
        return None
    try:
        data = [BECH32_CHARSET.index(c) for c in addr[pos + 1:]]
    except ValueError:
        return None
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return None
    data = data[:-6]
    if not data:
        return None
    witver = data[0]
    prog = _convertbits(data[1:], 5, 8, False)
    if prog is None or not 2 <= len(prog) <= 40 or witver > 16:
        return None
    if witver == 0 and (len(prog) not in (20, 32) or const != _BECH32_CONST):
        return None
    if witver != 0 and const != _BECH32M_CONST:
        return None
    return witver, bytes(prog)


# ---- EIP-55 (Ethereum mixed-case checksum) ------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    h = keccak.new(digest_bits=256)
    h.update(data)
    return h.digest()


def eip55(address_hex40: str) -> str:
    """The EIP-55 checksummed form of a 40-hex-digit address (without 0x)."""
    lower = address_hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def eth_address_ok(address: str) -> bool:
    """0x + 40 hex; when mixed case, the EIP-55 checksum must hold."""
    if len(address) != 42 or not address.startswith(("0x", "0X")):
        return False
    body = address[2:]
    try:
        int(body, 16)
    except ValueError:
        return False
    if body.lower() == body or body.upper() == body:
        return True
    return eip55(body) == "0x" + body


# ---- Tor onion v3 (rend-spec-v3: base32 of pubkey(32) | checksum(2) | version(1)=3) ----------------


def _onion_checksum(pubkey: bytes) -> bytes:
    return hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]


def onion_v3_encode(pubkey: bytes) -> str:
    """The 56-character v3 onion host (without ".onion") of a 32-byte ed25519 public key."""
    return base64.b32encode(pubkey + _onion_checksum(pubkey) + b"\x03").decode("ascii").lower()


def onion_v3_ok(address: str) -> bool:
    """A v3 onion address (with or without ".onion") whose version is 3 and whose checksum holds."""
    host = address.removesuffix(".onion")
    if len(host) != 56:
        return False
    try:
        raw = base64.b32decode(host.upper())
    except ValueError:
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    return version == b"\x03" and _onion_checksum(pubkey) == checksum
