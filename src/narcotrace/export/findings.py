"""What the investigation exports (FtM, STIX, GraphML/GEXF) and the HTML report carry, read once from the workspace.

Findings are the flagged posts (sale / recruitment), the indicators they name, the accounts those indicators
identify, the drug channels with their drops, collectors, exchangers and cash-out points, the accounts the money
pillar alerted on, and the transfers that are their evidence. Each item is `approved` or `proposed`:

- a post is approved when its latest review decision is `approve` (per post or per shop); `reject` drops it;
- an account is approved when its alert is `confirmed`, or its channel was approved; a `dismissed` alert drops it
  unless a channel still holds it;
- a channel is approved when a person approved it (decision on the channel) or approved one of its posts;
  a rejected channel is dropped;
- an indicator is approved when an approved post names it.

By default only approved items are exported; `proposed=True` adds the rest, each marked `proposed`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from narcotrace.errors import UserError
from narcotrace.workspace import Workspace

FLAGGED = ("sale", "recruitment")
APPROVED, PROPOSED = "approved", "proposed"
MONEY_ROLES = ("drop", "wallet", "collector", "exchanger", "cash_out")


@dataclass
class Channel:
    """A drug channel as `narcotrace channels` stored it, with its approval status."""

    id: str
    name: str
    confidence: float
    volume: float
    first_seen: datetime | None
    last_seen: datetime | None
    cities: list[str]
    status: str
    post_ids: list[str] = field(default_factory=list)
    indicator_ids: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # account_id -> role, score, volume, evidence


@dataclass
class Post:
    """A flagged post with its text, provenance and the classifier's explanation."""

    id: str
    text: str
    label: str
    score: float
    date: datetime | None
    chat: str | None
    author: str | None
    url: str | None
    source: str | None
    source_row: int | None
    captured_at: datetime | None
    sha256: str | None
    lang: str | None
    categories: list[str]
    explanation: list[dict[str, Any]]
    model_version: str | None
    status: str
    reviewer: str | None = None
    channels: list[str] = field(default_factory=list)


@dataclass
class Indicator:
    """One canonical indicator (telegram:x, domain:y, card:..., tron:...) and the posts naming it."""

    id: str
    kind: str  # the canonical prefix: telegram | domain | url | onion | email | phone | card | iban | btc | ...
    value: str
    is_bot: bool
    status: str
    post_ids: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (post_id, start, end) in the original text
    channels: list[str] = field(default_factory=list)


@dataclass
class Account:
    """A bank account, card, wallet, exchanger or cash point that the findings involve."""

    id: str
    kind: str | None
    bank: str | None
    country: str | None
    holder_id: str | None
    holder_name: str | None
    holder_kind: str | None
    card: str | None
    phone: str | None
    iban: str | None
    address: str | None
    currency: str | None
    status: str
    role: str  # drop | wallet | collector | exchanger | cash_out (from a channel), else the alert's role, else counterparty
    score: float | None
    identifiers: list[str] = field(default_factory=list)
    alert: dict[str, Any] | None = None
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # channel_id -> role, score, volume, evidence


@dataclass
class Transfer:
    transfer_id: str
    timestamp: datetime | None
    from_account: str
    to_account: str
    amount: float | None
    currency: str | None
    amount_base: float | None
    channel: str | None  # payment channel (card_p2p, ...)
    description: str | None
    kind: str  # drug_payment | forward | evidence
    drug_channels: list[str] = field(default_factory=list)


@dataclass
class Findings:
    channels: dict[str, Channel]
    posts: dict[str, Post]
    indicators: dict[str, Indicator]
    accounts: dict[str, Account]
    identifies: list[tuple[str, str]]  # (indicator id, account id)
    transfers: dict[str, Transfer]
    proposed: bool
    channel_filter: str | None

    @property
    def counts(self) -> dict[str, int]:
        return {"channels": len(self.channels), "posts": len(self.posts), "indicators": len(self.indicators),
                "accounts": len(self.accounts), "transfers": len(self.transfers)}


def _latest_decisions(ws: Workspace, kind: str) -> dict[str, tuple[str, str | None, str | None]]:
    rows = ws.con.execute("""
        SELECT target_id, decision, label, reviewer FROM (
            SELECT *, row_number() OVER (PARTITION BY target_id ORDER BY decided_at DESC, decision_id DESC) AS rn
            FROM decisions WHERE target_kind = ?) WHERE rn = 1""", [kind]).fetchall()
    return {t: (d, label, who) for t, d, label, who in rows}


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def load_findings(ws: Workspace, *, proposed: bool, channel: str | None = None) -> Findings:
    """Read the findings (see the module docstring); `channel` keeps one drug channel and what belongs to it."""
    con = ws.con
    post_dec = _latest_decisions(ws, "post")
    chan_dec = _latest_decisions(ws, "channel")

    # -- channels ----------------------------------------------------------------------------------------
    channels: dict[str, Channel] = {}
    for cid, name, conf, vol, first, last, cities in con.execute(
            "SELECT channel_id, name, confidence, total_volume, first_seen, last_seen, cities FROM channels "
            "ORDER BY total_volume DESC NULLS LAST, channel_id").fetchall():
        channels[cid] = Channel(cid, name or cid, float(conf or 0), float(vol or 0), first, last, list(cities or []),
                                PROPOSED)
    if channel is not None and channel not in channels:
        if not channels:
            raise UserError(f"--channel {channel}: no drug channels in this workspace yet; run `narcotrace channels` first")
        raise UserError(f"--channel {channel}: unknown channel; known: {', '.join(list(channels)[:10])}"
                        + (" ..." if len(channels) > 10 else "") + " (see `narcotrace channels`)")
    for cid, kind, mid, role, score, volume, evidence in con.execute(
            "SELECT channel_id, member_kind, member_id, role, score, volume, evidence FROM channel_members "
            "ORDER BY channel_id, member_kind, member_id").fetchall():
        ch = channels.get(cid)
        if ch is None:
            continue
        if kind == "post":
            ch.post_ids.append(mid)
        elif kind == "indicator":
            ch.indicator_ids.append(mid)
        elif kind == "account":
            ch.accounts[mid] = {"role": role, "score": score, "volume": float(volume or 0),
                                "evidence": _json(evidence) or {}}
    for ch in list(channels.values()):
        decision = chan_dec.get(ch.id, (None, None, None))[0]
        if decision == "reject":
            del channels[ch.id]
            continue
        if decision == "approve" or any(post_dec.get(p, (None,))[0] == "approve" for p in ch.post_ids):
            ch.status = APPROVED
    if channel is not None:
        if channel not in channels:
            raise UserError(f"--channel {channel}: a person rejected this channel; it is not exported")
        channels = {channel: channels[channel]}
    if not proposed:
        channels = {k: c for k, c in channels.items() if c.status == APPROVED}

    # -- posts -------------------------------------------------------------------------------------------
    post_channels: dict[str, list[str]] = defaultdict(list)
    for ch in channels.values():
        for p in ch.post_ids:
            post_channels[p].append(ch.id)
    cols = ("post_id, coalesce(text, ''), label, coalesce(score, 0), date, channel, author, url, source, source_row, "
            "captured_at, sha256, lang, categories, explanation, model_version")
    if channel is not None:
        # a proposed channel without --proposed exports nothing of it
        con.execute("CREATE OR REPLACE TEMP TABLE _export_posts AS SELECT unnest(?::VARCHAR[]) AS post_id",
                    [channels[channel].post_ids if channel in channels else []])
        rows = con.execute(f"SELECT {cols} FROM posts WHERE post_id IN (SELECT post_id FROM _export_posts) "
                           "ORDER BY date NULLS LAST, post_id").fetchall()
    else:
        rows = con.execute(f"SELECT {cols} FROM posts WHERE label IN ('sale', 'recruitment') OR post_id IN "
                           "(SELECT target_id FROM decisions WHERE target_kind = 'post' AND decision = 'approve') "
                           "ORDER BY date NULLS LAST, post_id").fetchall()
    posts: dict[str, Post] = {}
    for (pid, text, label, score, date, chat, author, url, source, source_row, captured, sha, lang, cats, expl,
         model) in rows:
        decision, dlabel, reviewer = post_dec.get(pid, (None, None, None))
        if decision == "reject":
            continue
        status = APPROVED if decision == "approve" else PROPOSED
        if status == PROPOSED and not proposed:
            continue
        posts[pid] = Post(pid, text, dlabel or label or "none", float(score), date, chat, author, url, source,
                          source_row, captured, sha, lang, list(cats or []), _json(expl) or [], model, status,
                          reviewer if decision == "approve" else None, post_channels.get(pid, []))
    for ch in channels.values():
        ch.post_ids = [p for p in ch.post_ids if p in posts]

    # -- indicators --------------------------------------------------------------------------------------
    indicators: dict[str, Indicator] = {}
    if posts:
        con.execute("CREATE OR REPLACE TEMP TABLE _export_posts AS SELECT unnest(?::VARCHAR[]) AS post_id",
                    [list(posts)])
        for pid, kind, value, canonical, start, end, details in con.execute(
                "SELECT post_id, kind, value, canonical_id, span_start, span_end, details FROM indicators "
                "WHERE post_id IN (SELECT post_id FROM _export_posts) ORDER BY canonical_id, post_id").fetchall():
            cid = canonical or f"{kind}:{value}"
            ind = indicators.get(cid)
            if ind is None:
                ind = indicators[cid] = Indicator(cid, cid.split(":", 1)[0], cid.split(":", 1)[1] if ":" in cid else value,
                                                  False, PROPOSED)
            d = _json(details) or {}
            ind.is_bot = ind.is_bot or bool(d.get("is_bot")) or ind.value.lower().endswith("bot")
            if pid not in ind.post_ids:
                ind.post_ids.append(pid)
            if start is not None and end is not None:
                ind.spans.append((pid, int(start), int(end)))
            if posts[pid].status == APPROVED:
                ind.status = APPROVED
    for ch in channels.values():
        for i in ch.indicator_ids:
            if i in indicators and ch.id not in indicators[i].channels:
                indicators[i].channels.append(ch.id)

    # -- accounts ----------------------------------------------------------------------------------------
    alert_cols = ["alert_id", "account_id", "score", "role", "typologies", "reasons", "evidence_transfer_ids",
                  "model_version", "status", "updated_by", "updated_at", "status_reason"]
    alerts = {r[1]: dict(zip(alert_cols, r)) for r in con.execute(
        f"SELECT {', '.join(alert_cols)} FROM alerts").fetchall()}
    wanted: dict[str, str] = {}  # account_id -> status
    for ch in channels.values():
        for a in ch.accounts:
            alert = alerts.get(a)
            st = APPROVED if ch.status == APPROVED or (alert and alert["status"] == "confirmed") else PROPOSED
            if wanted.get(a) != APPROVED:
                wanted[a] = st
    identifies: list[tuple[str, str]] = []
    payment_ids = [i for i in indicators if i.split(":", 1)[0] in ("card", "phone", "iban", "btc", "eth", "tron",
                                                                   "ltc", "xmr")]
    if payment_ids:
        con.execute("CREATE OR REPLACE TEMP TABLE _export_ids AS SELECT unnest(?::VARCHAR[]) AS identifier", [payment_ids])
        for ident, acc in con.execute("SELECT DISTINCT identifier, account_id FROM account_identifiers "
                                      "WHERE identifier IN (SELECT identifier FROM _export_ids) "
                                      "UNION SELECT account_id, account_id FROM accounts "
                                      "WHERE account_id IN (SELECT identifier FROM _export_ids) ORDER BY 1, 2").fetchall():
            identifies.append((ident, acc))
            if acc not in wanted:
                alert = alerts.get(acc)
                if alert and alert["status"] == "dismissed":
                    continue
                wanted[acc] = APPROVED if (indicators[ident].status == APPROVED and alert
                                           and alert["status"] == "confirmed") else PROPOSED
    if channel is None:
        for acc, alert in alerts.items():
            if alert["status"] == "dismissed" or acc in wanted:
                continue
            wanted[acc] = APPROVED if alert["status"] == "confirmed" else PROPOSED
    if not proposed:
        wanted = {a: s for a, s in wanted.items() if s == APPROVED}
    identifies = [(i, a) for i, a in identifies if a in wanted]
    accounts = _accounts(ws, wanted, alerts, channels)

    # -- transfers: drug payments and forwards of the channels, evidence of the alerts ----------------------
    kinds: dict[str, tuple[str, set[str]]] = {}

    def mark(tid: str, kind: str, chan: str | None) -> None:
        k, chans = kinds.get(tid, (kind, set()))
        if k != "drug_payment" and kind == "drug_payment":
            k = kind
        if chan:
            chans.add(chan)
        kinds[tid] = (k, chans)

    for ch in channels.values():
        for a, m in ch.accounts.items():
            if a not in accounts:
                continue
            ev = m["evidence"] or {}
            for t in ev.get("payment_ids") or []:
                mark(t, "drug_payment", ch.id)
            for t in ev.get("transfer_ids") or []:
                mark(t, "forward", ch.id)
    for a, acc in accounts.items():
        if acc.alert:
            for t in acc.alert.get("evidence_transfer_ids") or []:
                mark(t, "evidence", None)
    transfers = _transfers(ws, kinds)
    # the other end of each evidence transfer (a buyer, a counterparty) is listed too, so payments have both ends
    # (approved when the account it paid or was paid by is approved: it is that finding's evidence)
    others: dict[str, str] = {}
    for t in transfers.values():
        for mine, other in ((t.from_account, t.to_account), (t.to_account, t.from_account)):
            if other and other not in accounts and mine in accounts:
                if others.get(other) != APPROVED:
                    others[other] = accounts[mine].status
    accounts.update(_accounts(ws, others, {}, {}, role="counterparty"))
    return Findings(channels, posts, indicators, accounts, identifies, transfers, proposed, channel)


def _accounts(ws: Workspace, wanted: dict[str, str], alerts: dict[str, dict[str, Any]],
              channels: dict[str, Channel], role: str | None = None) -> dict[str, Account]:
    if not wanted:
        return {}
    con = ws.con
    con.execute("CREATE OR REPLACE TEMP TABLE _export_accounts AS SELECT unnest(?::VARCHAR[]) AS account_id",
                [list(wanted)])
    known = {r[0]: r for r in con.execute(
        "SELECT account_id, kind, bank, country, holder_id, holder_name, holder_kind, card, phone, iban, address, "
        "currency FROM accounts WHERE account_id IN (SELECT account_id FROM _export_accounts)").fetchall()}
    idents: dict[str, list[str]] = defaultdict(list)
    for ident, acc in con.execute("SELECT DISTINCT identifier, account_id FROM account_identifiers WHERE account_id IN "
                                  "(SELECT account_id FROM _export_accounts) ORDER BY 1").fetchall():
        idents[acc].append(ident)
    scores = dict(con.execute("SELECT account_id, score FROM account_scores WHERE account_id IN "
                              "(SELECT account_id FROM _export_accounts)").fetchall())
    out: dict[str, Account] = {}
    for a in sorted(wanted):
        r = known.get(a) or (a, None, None, None, None, None, None, None, None, None, None, None)
        memberships = {cid: ch.accounts[a] for cid, ch in channels.items() if a in ch.accounts}
        alert = alerts.get(a)
        if memberships:
            best = min(memberships.values(), key=lambda m: MONEY_ROLES.index(m["role"]) if m["role"] in MONEY_ROLES else 9)
            acc_role = best["role"]
        elif alert:
            acc_role = alert["role"] or "suspect"
        else:
            acc_role = role or "named"
        kind = r[1] or ("wallet" if ":" in a and a.split(":", 1)[0] in ("btc", "eth", "tron", "ltc", "xmr") else None)
        score = alert["score"] if alert else scores.get(a)
        out[a] = Account(a, kind, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], wanted[a], acc_role,
                         float(score) if score is not None else None, idents.get(a, []), alert, memberships)
    return out


def _transfers(ws: Workspace, kinds: dict[str, tuple[str, set[str]]]) -> dict[str, Transfer]:
    if not kinds:
        return {}
    con = ws.con
    con.execute("CREATE OR REPLACE TEMP TABLE _export_transfers AS SELECT unnest(?::VARCHAR[]) AS transfer_id",
                [list(kinds)])
    out: dict[str, Transfer] = {}
    for tid, ts, src, dst, amount, cur, base, chan, desc in con.execute(
            "SELECT transfer_id, timestamp, from_account, to_account, amount, currency, amount_base, channel, "
            "description FROM transfers WHERE transfer_id IN (SELECT transfer_id FROM _export_transfers) "
            "ORDER BY timestamp, transfer_id").fetchall():
        if tid in out or not src or not dst:
            continue
        kind, chans = kinds[tid]
        out[tid] = Transfer(tid, ts, src, dst, amount, cur, base, chan, desc, kind, sorted(chans))
    return out
