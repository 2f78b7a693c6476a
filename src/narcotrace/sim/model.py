"""The shared vocabulary of the synthetic world: shops, their drops and ads, as the generators pass them on.

The world generator (world.py) builds people, accounts and shops; the post generator (posts.py) writes
the shops' ads naming the drops active on the ad's date; the money generator (transfers.py) makes buyers
pay the drops named in an ad they saw, after they saw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class DropSpell:
    """A drop account that a shop names in its ads from start to end (drops rotate)."""

    account_id: str
    card: str | None  # 16 digits, Luhn-valid
    phone: str | None  # E.164, +77...
    start: datetime
    end: datetime


@dataclass
class Wallet:
    chain: str  # btc | tron | eth
    address: str
    account_id: str


@dataclass
class Shop:
    """A drug shop: a brand with handles, bots, maybe a site, the cities it serves, and its money route."""

    shop_id: str  # also the drug channel id in the truth tables: "ch-0001"
    brand: str
    handles: list[str]  # telegram handles, lower-case, without @
    bots: list[str]  # telegram bot handles, ending in "bot"
    domain: str | None
    onion: str | None
    cities: list[str]
    langs: list[str]  # languages of its ads: ru, kk, en
    drugs: list[str]  # drug categories it sells (lexicon category names)
    drops: list[DropSpell] = field(default_factory=list)
    collectors: list[str] = field(default_factory=list)  # account ids
    exchangers: list[str] = field(default_factory=list)  # account ids of exchangers it uses
    cash_out: list[str] = field(default_factory=list)  # account ids
    wallets: list[Wallet] = field(default_factory=list)  # shop's own crypto wallets (named in some ads)
    foreign: list[str] = field(default_factory=list)  # account ids abroad (foreign IBANs) its collectors pay


@dataclass
class Ad:
    """A sale ad as the money generator needs it: who posted it, when, and which accounts it names."""

    post_id: str
    shop_id: str
    date: datetime
    city: str | None
    account_ids: list[str]  # drop accounts named (by card or phone) in the ad
    prices: dict[str, int] = field(default_factory=dict)  # "mephedrone:1g" -> price in KZT
