"""Valid synthetic identifiers: Luhn cards under the banks' BINs, KZ mobiles, IBANs, crypto wallets, onions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import yaml
from schwifty import IBAN

from narcotrace import codecs
from narcotrace.codecs import b58check_encode, eip55, segwit_encode

# Mobile operator codes that phonenumbers accepts as valid KZ mobiles (703 and 704 are unassigned).
KZ_MOBILE_CODES = ("700", "701", "702", "705", "706", "707", "708", "747", "771", "775", "776", "777", "778")
# Kaspi-like dominance among operators too: Beeline/Kcell/Activ/Tele2 prefixes weighted by subscribers.
_MOBILE_WEIGHTS = np.array([10, 8, 9, 12, 3, 14, 5, 10, 3, 10, 6, 8, 2], dtype=float)


@dataclass(frozen=True)
class Bank:
    code: str
    name: str
    bic: str
    iban_bank_code: str
    market_share: float
    bins: tuple[str, ...]
    country: str = "KZ"


@dataclass(frozen=True)
class BankBook:
    banks: tuple[Bank, ...]
    foreign: tuple[Bank, ...]
    exchangers: tuple[dict, ...]

    @property
    def shares(self) -> np.ndarray:
        s = np.array([b.market_share for b in self.banks])
        return s / s.sum()


@cache
def bank_book() -> BankBook:
    """The banks of src/narcotrace/data/banks.yaml."""
    text = resources.files("narcotrace").joinpath("data", "banks.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    banks = tuple(Bank(b["code"], b["name"], b["bic"], str(b["iban_bank_code"]), float(b["market_share"]),
                       tuple(str(x["bin"]) for x in b["bins"])) for b in raw["banks"])
    foreign = tuple(Bank(b["code"], b["name"], b["bic"], str(b["iban_bank_code"]), 0.0, (), b["country"])
                    for b in raw["foreign_banks"])
    return BankBook(banks, foreign, tuple(raw["crypto_exchangers"]))


def luhn_complete(partial: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of a (n, 15) digit array; returns (n, 16)."""
    d = partial.astype(np.int64)
    # Positions counted from the right of the final 16-digit number: the check digit is position 0,
    # so the last partial digit (position 1) is doubled, and every second one before it.
    doubled = d[:, ::-1].copy()
    doubled[:, 0::2] *= 2
    doubled[doubled > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.concatenate([d, check[:, None]], axis=1)


def digits_to_str(d: np.ndarray) -> list[str]:
    """Rows of a digit array as strings."""
    if len(d) == 0:
        return []
    w = d.shape[1]
    raw = (d.astype(np.uint8) + 48).tobytes().decode("ascii")
    return [raw[i:i + w] for i in range(0, len(raw), w)]


def cards(rng: np.random.Generator, bins: list[str], taken: set[str] | None = None) -> list[str]:
    """16-digit Luhn-valid card numbers, one per BIN given (BINs repeat), distinct from each other and
    from `taken` (which is updated)."""
    out = _cards(rng, bins)
    return _distinct(out, taken, lambda i: _cards(rng, [bins[i]])[0])


def _distinct(values: list[str], taken: set[str] | None, redraw) -> list[str]:
    if taken is None:
        return values
    for i, v in enumerate(values):
        while v in taken:
            v = redraw(i)
        values[i] = v
        taken.add(v)
    return values


def _cards(rng: np.random.Generator, bins: list[str]) -> list[str]:
    n = len(bins)
    if n == 0:
        return []
    bin_digits = (np.frombuffer("".join(bins).encode("ascii"), dtype=np.uint8).reshape(n, 6) - 48).astype(np.int64)
    body = rng.integers(0, 10, size=(n, 9))
    while True:  # re-draw the account digits of the (rare) repeats
        full = luhn_complete(np.concatenate([bin_digits, body], axis=1))
        value = full @ (10 ** np.arange(15, -1, -1, dtype=np.int64))
        _, first = np.unique(value, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return digits_to_str(full)
        body[dup] = rng.integers(0, 10, size=(int(dup.sum()), 9))


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct Kazakh mobile numbers in E.164 (+77XXXXXXXXX)."""
    w = _MOBILE_WEIGHTS / _MOBILE_WEIGHTS.sum()
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        k = n - len(out)
        codes = rng.choice(len(KZ_MOBILE_CODES), size=k, p=w)
        subs = rng.integers(0, 10_000_000, size=k)
        for c, s in zip(codes, subs):
            p = f"+7{KZ_MOBILE_CODES[c]}{s:07d}"
            if p not in seen:
                seen.add(p)
                out.append(p)
    return out


def kz_ibans(rng: np.random.Generator, bank_codes: list[str], taken: set[str] | None = None) -> list[str]:
    """KZ IBANs (ISO 13616: KZkk + 3-digit bank code + 13 account digits), mod-97 check digits, distinct
    from each other and from `taken` (which is updated)."""
    return _distinct(_kz_ibans(rng, bank_codes), taken, lambda i: _kz_ibans(rng, [bank_codes[i]])[0])


def _kz_ibans(rng: np.random.Generator, bank_codes: list[str]) -> list[str]:
    n = len(bank_codes)
    if n == 0:
        return []
    bank = np.array([int(b) for b in bank_codes], dtype=np.int64)
    acct = rng.integers(0, 10**13, size=n)
    while True:  # the 16-digit BBANs must be distinct; re-draw the (rare) repeats
        bban = bank * 10**13 + acct
        _, first = np.unique(bban, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        acct[dup] = rng.integers(0, 10**13, size=int(dup.sum()))
    # check = 98 - (BBAN followed by "KZ00" as digits, K=20 Z=35: "203500") mod 97, kept inside int64
    check = 98 - ((bban % 97) * (10**6 % 97) + 203500) % 97
    return [f"KZ{c:02d}{b:016d}" for c, b in zip(check.tolist(), bban.tolist())]


def foreign_iban(rng: np.random.Generator, bank: Bank) -> str:
    lengths = {"TR": 16, "GE": 16, "AE": 16, "LT": 11, "DE": 10}
    n = lengths.get(bank.country, 10)
    acct = "".join(str(x) for x in rng.integers(0, 10, n))
    return str(IBAN.generate(bank.country, bank_code=bank.iban_bank_code, account_code=acct))


def wallet(rng: np.random.Generator, chain: str) -> str:
    """A checksum-valid address: btc (P2PKH base58check or P2WPKH bech32), tron (base58check 0x41), eth (EIP-55)."""
    h160 = rng.bytes(20)
    if chain == "btc":
        if rng.random() < 0.5:
            return b58check_encode(b"\x00" + h160)
        return segwit_encode("bc", 0, h160)
    if chain == "tron":
        return b58check_encode(b"\x41" + h160)
    if chain == "eth":
        return eip55(h160.hex())
    raise ValueError(f"unknown chain {chain}")


def onion_v3(rng: np.random.Generator) -> str:
    """A Tor v3 onion address with a valid checksum (rend-spec-v3)."""
    return codecs.onion_v3_encode(rng.bytes(32)) + ".onion"


onion_v3_ok = codecs.onion_v3_ok
