"""Contact and payment indicators in posts: find, validate and normalise them.

`extract(text, entities=..., links=...)` runs one extractor per kind (a module each, under
`base.Extractor`) in an order that lets the stricter ones claim their characters first: Telegram links,
WhatsApp links (read as phones), e-mails, URLs and domains, onion addresses, defanged sites
("shop[.]kz", "shop (точка) kz": the domain only), IBANs, crypto addresses, cards, phones, then @mentions
and "телега: handle" contacts.

Conventions of the output: a t.me link gives the handle only (t.me is not the shop's site); a Telegram
invite link (t.me/+hash) is a URL; a WhatsApp link gives the phone; a link to a page on a platform
(vk.com/shop_kz, instagram.com/...) is a URL without a domain, since the platform's domain is not the
shop's and must not reach a blocklist; onion addresses are domains (and URLs when written as URLs). Telegram export entities and HTML links are scanned too; what they add
that the text does not show gets offsets -1.

`as_contract(indicators)` gives the `indicators` object of `narcotrace scan --out` lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from narcotrace.online.indicators.base import Extractor, Indicator, Scan
from narcotrace.online.indicators.cards import Cards
from narcotrace.online.indicators.crypto import Crypto
from narcotrace.online.indicators.ibans import Ibans
from narcotrace.online.indicators.phones import Phones, WhatsAppLinks
from narcotrace.online.indicators.telegram import TelegramLinks, TelegramMentions
from narcotrace.online.indicators.web import Defanged, Emails, Onions, Urls

__all__ = ["EXTRACTOR_VERSION", "EXTRACTORS", "Indicator", "as_contract", "extract"]

EXTRACTOR_VERSION = "indicators-1.3"  # 1.2: wallets inside URLs; block explorers are platforms; 1.3: phones after ". " in a run of numbers

EXTRACTORS: tuple[Extractor, ...] = (
    TelegramLinks(), WhatsAppLinks(), Emails(), Urls(), Onions(), Defanged(), Ibans(), Crypto(), Cards(),
    Phones(), TelegramMentions(),
)

# Telegram export entity types whose text (or href) is an indicator.
_ENTITY_TYPES = {"mention", "text_link", "phone", "bank_card", "link", "url", "email"}


_PLAN = tuple((extractor.gate, extractor.extract) for extractor in EXTRACTORS)


def _scan(text: str) -> list[Indicator]:
    scan = Scan(text)
    bits = scan.hints
    for gate, extract_ in _PLAN:
        if gate and not bits & gate:
            continue  # no post without one of these bits holds an indicator of this kind
        for ind in extract_(scan):
            scan.add(ind)
    scan.found.sort(key=lambda i: (i.start, i.kind != "url"))
    return scan.found


def extract(text: str, *, entities: list[dict] | None = None, links: list[str] | None = None) -> list[Indicator]:
    """Every indicator in a post's text, plus those only in its Telegram entities or HTML links."""
    found = _scan(text)
    extra: list[str] = []
    for ent in entities or ():
        if not isinstance(ent, dict):
            continue
        kind = ent.get("type")
        if kind in _ENTITY_TYPES:
            snippet = str(ent.get("href") or ent.get("text") or "")
            if kind == "bank_card" and snippet:
                snippet = "card " + snippet  # Telegram itself saw a card here: give the card rule its context
            extra.append(snippet)
    extra.extend(str(link) for link in links or ())
    if extra:
        seen = {(i.kind, i.canonical_id) for i in found}
        for snippet in extra:
            if not snippet:
                continue
            for ind in _scan(snippet):
                key = (ind.kind, ind.canonical_id)
                if key in seen:
                    continue
                seen.add(key)
                found.append(dataclasses.replace(ind, start=-1, end=-1,
                                                 details={**ind.details, "from_metadata": True}))
    return found


def as_contract(inds: Iterable[Indicator]) -> dict:
    """The `indicators` object of a scan output line: values deduplicated in order of appearance."""
    out: dict[str, list] = {"telegram": [], "urls": [], "domains": [], "emails": [], "phones": [], "cards": [],
                            "ibans": [], "crypto": []}
    seen: set[tuple[str, str]] = set()
    key_of = {"telegram": "telegram", "url": "urls", "domain": "domains", "onion": "domains", "email": "emails",
              "phone": "phones", "card": "cards", "iban": "ibans"}
    for ind in inds:
        key = "crypto" if ind.kind == "crypto" else key_of.get(ind.kind)
        if key is None or (key, ind.canonical_id) in seen:
            continue
        seen.add((key, ind.canonical_id))
        if key == "crypto":
            out["crypto"].append({"chain": ind.chain, "address": ind.value})
        else:
            out[key].append(ind.value)
    return out
