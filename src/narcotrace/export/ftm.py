"""FollowTheMoney entities (JSON lines, ready for Aleph / `ftm` tools) of the drug channels and their money.

Mapping (docs/formats.md, "Exports"):
- a drug channel (shop) -> Organization, topic crime.traffick.drug, its sites as `website`, e-mails as `email`;
- a Telegram handle or bot -> UserAccount (service Telegram) owned by the shop;
- a post -> Message (bodyText, date, sourceUrl, language; sender: the shop, else the chat or author);
- a bank account, card holder account, exchanger or cash point -> BankAccount; a crypto wallet -> CryptoWallet;
  its holder -> Person / Organization (business) / LegalEntity (unknown), linked by Ownership (bank accounts)
  or `holder` (wallets);
- an account's part in a channel (drop, collector, exchanger, cash-out) -> UnknownLink shop -> account, role and
  evidence in the link; an alert -> Note on the account (score, typologies, reasons, evidence transfer ids);
- a transfer (drug payment into a drop, forward down the chain, evidence of an alert) -> Payment between the
  holders, with payerAccount / beneficiaryAccount where they are bank accounts.
Every entity carries `approved` or `proposed` (not yet approved by a person) in its notes; ids are stable
hashes of what the entity is (`make_id`), so re-exports update rather than duplicate in Aleph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from narcotrace.errors import UserError
from narcotrace.export.findings import APPROVED, Account, Findings, load_findings
from narcotrace.workspace import Workspace

TOPIC = "crime.traffick.drug"
NS = "narcotrace"
LANGUAGES = {"ru": "rus", "kk": "kaz", "en": "eng"}
CRYPTO_SYMBOLS = {"btc": "BTC", "eth": "ETH", "tron": "TRX", "ltc": "LTC", "xmr": "XMR"}
ROLE_WORDS = {"drop": "drop account", "wallet": "wallet named in the ads", "collector": "collector",
              "exchanger": "exchanger", "cash_out": "cash-out point"}


class Emitter:
    """Makes entities with stable ids and keeps each id once (the first wins; later ones merge in)."""

    def __init__(self) -> None:
        self.entities: dict[str, EntityProxy] = {}
        self.holders: dict[str, EntityProxy] = {}  # account id -> its holder (payments reuse it)

    def make(self, schema: str, *key: Any, **props: Any) -> EntityProxy:
        proxy = model.make_entity(schema)
        entity_id = proxy.make_id(NS, schema, *[str(k) for k in key])
        assert entity_id is not None  # NS is never empty
        for prop, value in props.items():
            if value is None or value == "" or value == []:
                continue
            for v in value if isinstance(value, (list, tuple, set)) else [value]:
                if v is not None and v != "":
                    proxy.add(prop, v)
        if entity_id in self.entities:
            self.entities[entity_id].merge(proxy)
            return self.entities[entity_id]
        self.entities[entity_id] = proxy
        return proxy


def _note(status: str, *parts: str) -> str:
    head = "approved by a person" if status == APPROVED else "PROPOSED: not yet approved by a person"
    return "; ".join([f"narcotrace: {head}", *[p for p in parts if p]])


def _holder(em: Emitter, acc: Account) -> EntityProxy:
    """The account's holder; an unnamed one still exists, so payments have both ends."""
    if acc.id in em.holders:
        return em.holders[acc.id]
    key = acc.holder_id or f"account:{acc.id}"
    if acc.holder_name:
        name = acc.holder_name
    elif acc.kind == "cash":
        name = f"cash point {acc.id}"
    elif acc.kind == "exchanger":
        name = f"exchanger {acc.id}"
    else:
        name = f"holder of {acc.id}"
    kind = (acc.holder_kind or "").lower()
    schema = "Person" if kind == "person" else "Organization" if kind in ("business", "company", "exchanger") or \
        acc.kind == "exchanger" else "LegalEntity"
    em.holders[acc.id] = em.make(schema, "holder", key, name=name, country=(acc.country or "").lower() or None,
                                 notes="holder name unknown" if not acc.holder_name else None)
    return em.holders[acc.id]


def _account(em: Emitter, acc: Account, topics: bool) -> EntityProxy:
    holder = _holder(em, acc)
    chain = acc.id.split(":", 1)[0] if ":" in acc.id else None
    parts = [f"role: {acc.role}"]
    if acc.score is not None:
        parts.append(f"risk score {acc.score:.2f}")
    if acc.card:
        parts.append(f"card {acc.card}")
    if acc.phone:
        parts.append(f"phone {acc.phone}")
    if acc.identifiers:
        parts.append("identifiers: " + ", ".join(acc.identifiers[:20]))
    note = _note(acc.status, *parts)
    if acc.kind == "wallet" or chain in CRYPTO_SYMBOLS:
        address = acc.address or (acc.id.split(":", 1)[1] if chain in CRYPTO_SYMBOLS else acc.id)
        chain = chain if chain in CRYPTO_SYMBOLS else (acc.bank or "").lower()
        return em.make("CryptoWallet", acc.id, publicKey=address, currencySymbol=CRYPTO_SYMBOLS.get(chain, acc.currency),
                       summary=f"{CRYPTO_SYMBOLS.get(chain, chain or 'crypto')} wallet {address}", holder=holder,
                       notes=note, topics=TOPIC if topics else None)
    entity = em.make("BankAccount", acc.id, accountNumber=acc.id, iban=acc.iban, bankName=acc.bank,
                     country=(acc.country or "").lower() or None, currency=acc.currency,
                     accountType={"cash": "cash point", "exchanger": "exchanger account", "foreign": "foreign account"}
                     .get(acc.kind or "", None), notes=note, topics=TOPIC if topics else None)
    em.make("Ownership", "holder", acc.id, owner=holder, asset=entity, role="account holder")
    return entity


def entities(f: Findings) -> Iterator[EntityProxy]:
    em = Emitter()
    shops: dict[str, EntityProxy] = {}
    for ch in f.channels.values():
        sites = [i for i in ch.indicator_ids if i.split(":", 1)[0] in ("domain", "onion") and i in f.indicators]
        emails = [i.split(":", 1)[1] for i in ch.indicator_ids if i.startswith("email:")]
        shops[ch.id] = em.make(
            "Organization", "channel", ch.id, name=ch.name, topics=TOPIC,
            website=[f"http://{s.split(':', 1)[1]}" for s in sites], email=emails,
            summary=f"Drug channel {ch.id}: {len(ch.post_ids)} posts, {len(ch.accounts)} accounts, "
                    f"drug money {ch.volume:,.0f} KZT" + (f", cities {', '.join(ch.cities)}" if ch.cities else ""),
            notes=_note(ch.status, f"confidence {ch.confidence:.2f}", f"channel id {ch.id}"),
            incorporationDate=ch.first_seen.date().isoformat() if ch.first_seen else None)
    handles: dict[str, EntityProxy] = {}
    for ind in f.indicators.values():
        if ind.kind != "telegram":
            continue
        owners = [shops[c] for c in ind.channels if c in shops]
        handles[ind.id] = em.make("UserAccount", ind.id, username=ind.value, service="Telegram",
                                  owner=owners, topics=TOPIC if owners else None,
                                  summary="Telegram bot" if ind.is_bot else "Telegram account",
                                  notes=_note(ind.status, f"named in {len(ind.post_ids)} posts"))
    named_in: dict[str, list] = {}
    for ind in f.indicators.values():
        for pid in ind.post_ids:
            named_in.setdefault(pid, []).append(ind)
    for post in f.posts.values():
        if post.channels and post.channels[0] in shops:
            sender = shops[post.channels[0]]
        else:
            who = post.author or post.chat or "unknown author"
            sender = em.make("LegalEntity", "author", who, name=who, notes="author of posts flagged by narcotrace")
        named = named_in.get(post.id, [])
        message = em.make("Message", "post", post.id, bodyText=post.text or "(empty)", sender=sender,
                title=(post.text or "").strip().splitlines()[0][:200] if (post.text or "").strip() else None,
                date=post.date.isoformat() if post.date else None, sourceUrl=post.url,
                messageId=post.id, language=LANGUAGES.get(post.lang or ""), threadTopic=post.chat,
                phoneMentioned=[i.value for i in named if i.kind == "phone"],
                emailMentioned=[i.value for i in named if i.kind == "email"],
                ibanMentioned=[i.value for i in named if i.kind == "iban"],
                topics=TOPIC if post.label == "sale" else None,
                notes=_note(post.status, f"label {post.label}", f"score {post.score:.2f}",
                            "categories " + ", ".join(post.categories) if post.categories else "",
                            f"source {post.source} row {post.source_row}" if post.source else "",
                            f"sha256 {post.sha256}" if post.sha256 else "",
                            f"reviewer {post.reviewer}" if post.reviewer else ""))
        for i in named:
            if i.id in handles:
                em.make("UnknownLink", "names", post.id, i.id, subject=handles[i.id], object=message,
                        role="named in the post")
    accounts: dict[str, EntityProxy] = {}
    for acc in f.accounts.values():
        accounts[acc.id] = _account(em, acc, topics=bool(acc.channels))
        for cid, m in acc.channels.items():
            if cid not in shops:
                continue
            ev = m.get("evidence") or {}
            em.make("UnknownLink", "member", cid, acc.id, subject=shops[cid], object=accounts[acc.id],
                    role=ROLE_WORDS.get(m["role"], m["role"]),
                    description=json.dumps({k: v for k, v in ev.items() if k not in ("payment_ids", "transfer_ids")},
                                           ensure_ascii=False, default=str)[:2000],
                    summary=f"{m['role']} of channel {cid}: {float(m.get('volume') or 0):,.0f} KZT attributed",
                    status=f.channels[cid].status)
        if acc.alert:
            a = acc.alert
            em.make("Note", "alert", a["alert_id"], entity=accounts[acc.id],
                    name=f"alert {a['alert_id']}: {a['role']} ({a['status']})",
                    description="\n".join(a.get("reasons") or []),
                    summary=f"score {float(a['score'] or 0):.2f}; typologies {', '.join(a.get('typologies') or [])}; "
                            f"model {a['model_version']}; evidence transfers "
                            + ", ".join((a.get("evidence_transfer_ids") or [])[:50]),
                    notes=_note(APPROVED if a["status"] == "confirmed" else "proposed",
                                f"status {a['status']}", f"by {a['updated_by']}" if a.get("updated_by") else ""))
    for t in f.transfers.values():
        src, dst = f.accounts.get(t.from_account), f.accounts.get(t.to_account)
        if src is None or dst is None:
            continue
        what = {"drug_payment": "drug payment", "forward": "drug money forwarded", "evidence": "alert evidence"}[t.kind]
        em.make("Payment", "transfer", t.transfer_id, payer=_holder(em, src), beneficiary=_holder(em, dst),
                payerAccount=accounts[src.id] if accounts[src.id].schema.name == "BankAccount" else None,
                beneficiaryAccount=accounts[dst.id] if accounts[dst.id].schema.name == "BankAccount" else None,
                amount=t.amount, currency=t.currency, date=t.timestamp.isoformat() if t.timestamp else None,
                transactionNumber=t.transfer_id, purpose=what,
                description=" ".join(x for x in [t.description or "", f"({t.channel})" if t.channel else "",
                                                 f"channels {', '.join(t.drug_channels)}" if t.drug_channels else "",
                                                 f"{t.amount_base:,.0f} KZT" if t.amount_base is not None else ""] if x))
    yield from em.entities.values()


def export(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None = None) -> int:
    """Write one FtM entity per line; return how many."""
    findings = load_findings(ws, proposed=proposed, channel=channel)
    n = 0
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            for proxy in entities(findings):
                fh.write(json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
    except OSError as e:
        raise UserError(f"--out {out}: cannot write ({e.strerror})") from e
    return n
