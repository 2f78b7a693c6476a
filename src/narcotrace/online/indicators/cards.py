"""Bank card numbers: Luhn-valid, a plausible issuer prefix and card-like formatting; issuer from BIN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml

from narcotrace import codecs, identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, KeyedPattern, Scan

_BANKS = Path(__file__).resolve().parents[2] / "data" / "banks.yaml"

# Card layouts: 4-4-4-4 (and 4-4-4-4-3 for 19 digits) with one kind of separator, Amex 4-6-5, or
# 13-19 contiguous digits; not glued to other digits, decimals or dates. Looser layouts are read only
# for a known payment network: 8-8, 4-4-4-4 with any one separator (dots, no-break spaces, underscores,
# emoji: "4400.4312.3456.7890", "4400 💳 4312 💳 ..."), and 4-4-4-4 split by mixed white space or a line
# break, which also needs a card word before it ("карта:\n4400 4312\n3456 7890").
# (The first digit comes before the look-behind so that the engine can skip to digits in C.)
_CANDIDATE = re.compile(
    r"\d(?<![\d.,/]\d)(?:\d{3}(?P<s>[ -]{1,2})\d{4}(?P=s)\d{4}(?P=s)\d{4}(?:(?P=s)\d{1,3})?"
    r"|\d{3}(?P<a>[ -])\d{6}(?P=a)\d{4,5}"
    r"|\d{7}(?P<h>[ -])\d{8}"
    r"|\d{3}(?P<o>[^\w\n,;:/+]{1,6}|_)\d{4}(?P=o)\d{4}(?P=o)\d{4}"
    r"|\d{3}(?P<w>\s{1,4})\d{4}\s{1,4}\d{4}\s{1,4}\d{4}"
    r"|\d{12,18})(?![\d]|[.,/]\d)")
_NON_DIGIT = re.compile(r"\D")
_CARD_WORD_BEFORE = re.compile(r"(?:карт\w*|card|kart\w*|visa|mastercard|виза|kaspi|каспи|halyk|халык|gold|голд)\W{0,12}$")
# Payment-network prefixes (ISO/IEC 7812 major industry identifiers 2-6, plus Uzcard 8600 and Humo 9860,
# which Central Asian shops ask for).
_NETWORKS = (
    ("mir", ("2200", "2201", "2202", "2203", "2204")),
    ("mastercard", tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721))),
    ("visa", ("4",)),
    ("amex", ("34", "37")),
    ("unionpay", ("62",)),
    ("jcb", tuple(str(p) for p in range(3528, 3590))),
    ("maestro", ("50", "56", "57", "58", "63", "67", "6")),
    ("discover", ("6011", "65")),
    ("diners", ("36", "38", "300", "301", "302", "303", "304", "305")),
    ("uzcard", ("8600",)),
    ("humo", ("9860",)),
)


# Lengths each network issues; a contiguous number of another length is something else (a 15-digit IMEI
# is Luhn-valid and may start like a JCB card).
_LENGTHS = {"visa": (13, 16, 19), "mastercard": (16,), "mir": (16, 17, 18, 19), "amex": (15,), "jcb": (16, 17, 18, 19),
            "unionpay": (16, 17, 18, 19), "discover": (16, 17, 18, 19), "diners": (14, 15, 16, 17, 18, 19),
            "uzcard": (16,), "humo": (16,)}
_NOT_CARD_BEFORE = KeyedPattern(
    r"(?<![a-zа-я])(?:imei\d?|серийн\w*|serial|s/n|sn|ean|isbn|штрих\w*)\W{0,12}(?:\d+\W{1,3})?$",
    keys=("imei", "серийн", "serial", "s/n", "sn", "ean", "isbn", "штрих"))

_PREFIX_NETWORK = {p: name for name, prefixes in reversed(_NETWORKS) for p in prefixes}


def network(digits: str) -> str | None:
    """Card scheme by prefix (longest known prefix wins), or None when no payment network issues it."""
    for n in (4, 3, 2, 1):
        name = _PREFIX_NETWORK.get(digits[:n])
        if name is not None:
            return name
    return None


@lru_cache(maxsize=1)
def _bins() -> dict[str, dict]:
    """BIN prefix -> {bank, bank_code, scheme} from data/banks.yaml (empty when the file is absent)."""
    try:
        data = yaml.safe_load(_BANKS.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, dict] = {}
    for bank in (data.get("banks") or []) + (data.get("foreign_banks") or []):
        for b in bank.get("bins") or []:
            if isinstance(b, dict) and b.get("bin"):
                out[str(b["bin"])] = {"bank": bank.get("name"), "bank_code": bank.get("code"),
                                      "scheme": b.get("scheme")}
    return out


def issuer(digits: str) -> dict | None:
    bins = _bins()
    for n in (8, 6):
        hit = bins.get(digits[:n])
        if hit is not None:
            return hit
    return None


class Cards(Extractor):
    kind = "card"
    gate = hints.FOUR_DIGITS

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _CANDIDATE.finditer(scan.text):
            start, end = m.span()
            raw = m.group()
            sep = m.group("s")
            digits = _NON_DIGIT.sub("", raw)
            if sep and len(digits) > 16:
                # A fifth group makes a 19-digit card only with 3 digits; otherwise, or when digits go on
                # after it ("4400 4300 1234 5678 870 123 45 67"), it starts the next number.
                goes_on = re.match(r"[ -]?\d", scan.text[end:end + 2]) is not None
                if len(digits) != 19 or not codecs.luhn_ok(digits) or (goes_on and codecs.luhn_ok(digits[:16])):
                    end = start + raw.rfind(sep)
                    digits = digits[:16]
            if not codecs.luhn_ok(digits) or not scan.free(start, end):
                continue
            scheme = network(digits)
            if m.group("h") is not None or m.group("o") is not None or m.group("w") is not None:
                # a loose layout: only for a known network (and, split over lines, after a card word)
                if scheme is None or (m.group("w") is not None and not _CARD_WORD_BEFORE.search(
                        scan.lower, max(0, start - 30), start)):
                    continue
            if scheme is None:
                # No network issues numbers starting like this, so a contiguous digit string is most
                # likely an order or account number that passes Luhn by chance (1 in 10). Written in
                # 4-digit groups, or right after a word for a card, it is still read as a card.
                if not (sep or m.group("a")) and not _CARD_WORD_BEFORE.search(scan.lower, max(0, start - 30), start):
                    continue
                scheme = "unknown"
            elif (not (sep or m.group("a")) and len(digits) not in _LENGTHS.get(scheme, (len(digits),))
                    and not _CARD_WORD_BEFORE.search(scan.lower, max(0, start - 30), start)):
                continue  # a contiguous number of a length this network does not issue, with no card word
            if _NOT_CARD_BEFORE.search(scan.lower, max(0, start - 40), start):
                continue  # "IMEI 35...", "S/N ...": a device's number
            if len(set(digits)) <= 2:
                continue  # 4444 4444 4444 4448: a placeholder, not a card
            details: dict = {"scheme": scheme, "bin": digits[:6]}
            found = issuer(digits)
            if found:
                details.update({"issuer": found["bank"], "bank_code": found["bank_code"]})
            yield Indicator("card", digits, identifiers.card(digits), None, start, end, details)
