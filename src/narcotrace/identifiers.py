"""Canonical identifiers shared by both pillars: one normal form per kind, e.g. `card:4400430012345678`.

The card number or phone in an ad and the card or phone of an account in the transfers meet through
these strings, so every reader and extractor makes them here and nowhere else.
"""

from __future__ import annotations

import re

import phonenumbers

KINDS = ("card", "phone", "iban", "btc", "eth", "tron", "ltc", "xmr", "telegram", "domain", "onion",
         "email", "url", "account")

_NON_DIGIT = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def card(number: str) -> str:
    return "card:" + _NON_DIGIT.sub("", number)


def phone(number: str, region: str = "KZ") -> str | None:
    """`phone:+77011234567` for a valid number (default region KZ), else None."""
    try:
        p = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(p):
        return None
    return "phone:" + phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)


def iban(value: str) -> str:
    return "iban:" + _NON_ALNUM.sub("", value).upper()


def crypto(chain: str, address: str) -> str:
    chain = chain.lower()
    # Case carries the checksum in base58 and EIP-55; bech32 is case-insensitive and shown lower-case.
    if chain == "eth" or address.lower().startswith(("bc1", "ltc1", "tb1")):
        address = address.lower()
    return f"{chain}:{address}"


def telegram(handle: str) -> str:
    return "telegram:" + handle.lstrip("@").lower()


def domain(registered_domain: str) -> str:
    return "domain:" + registered_domain.lower().rstrip(".")


def email(address: str) -> str:
    return "email:" + address.lower()


def account(account_id: str) -> str:
    """An account known only by its bank-internal id."""
    return "account:" + account_id


def kind_of(identifier: str) -> str:
    return identifier.split(":", 1)[0]
