"""Analysts' review of flagged posts: the queue, and approve/reject decisions per post or per shop.

A decision is a row in `decisions` (who, when, why, corrected label) and a line in the audit log. The
latest post decision counts: blocklists take approved sale posts; `train` learns from all decisions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from narcotrace.errors import UserError
from narcotrace.workspace import current_user, utcnow

LABELS = ("sale", "recruitment", "none")
FLAGGED = ("sale", "recruitment")

_LATEST = """
    SELECT target_id AS post_id, decision, label,
           row_number() OVER (PARTITION BY target_id ORDER BY decided_at DESC, decision_id DESC) AS rn
    FROM decisions WHERE target_kind = 'post'
"""


@dataclass
class QueueItem:
    post_id: str
    score: float
    label: str
    categories: list[str]
    text: str
    channel: str | None
    source: str
    indicators: list[str]


def queue(ws, *, limit: int = 20, label: str | None = None, min_score: float = 0.0) -> list[QueueItem]:
    """Flagged posts nobody has decided on yet, highest score first, with their indicators."""
    if label is not None and label not in FLAGGED:
        raise UserError(f"--label {label}: use sale or recruitment")
    labels = [label] if label else list(FLAGGED)
    rows = ws.con.execute(f"""
        WITH decided AS (SELECT DISTINCT target_id FROM decisions WHERE target_kind = 'post'),
        page AS (
            SELECT p.post_id, coalesce(p.score, 0) AS score, p.label, p.categories, p.text, p.channel,
                   coalesce(p.url, p.source) AS source
            FROM posts p
            WHERE p.label IN (SELECT unnest(?)) AND coalesce(p.score, 0) >= ?
              AND p.post_id NOT IN (SELECT target_id FROM decided)
            ORDER BY score DESC, p.post_id
            LIMIT ?
        )
        SELECT page.*, (SELECT list(DISTINCT coalesce(i.canonical_id, i.kind || ':' || i.value)
                                    ORDER BY coalesce(i.canonical_id, i.kind || ':' || i.value))
                        FROM indicators i WHERE i.post_id = page.post_id) AS indicators
        FROM page ORDER BY score DESC, post_id
    """, [labels, min_score, limit]).fetchall()
    return [QueueItem(r[0], float(r[1]), r[2], list(r[3] or []), r[4] or "", r[5], r[6] or "", list(r[7] or []))
            for r in rows]


def shop_identifier(value: str) -> str:
    """A shop as a canonical indicator id: `telegram:name`, `domain:shop.kz`, or `@name` for Telegram."""
    value = value.strip()
    if value.startswith("@"):
        return "telegram:" + value[1:].lower()
    kind, sep, rest = value.partition(":")
    if not sep or not rest:
        raise UserError(f"--shop {value}: give the shop as an indicator id, e.g. telegram:shopname, "
                        "domain:shop.kz, or @shopname")
    kind = kind.lower()
    if kind in ("telegram", "domain", "email", "onion", "url"):
        rest = rest.lstrip("@").lower() if kind != "url" else rest
    return f"{kind}:{rest}"


def decide(ws, decision: str, post_ids: Sequence[str] = (), *, shop: str | None = None, reason: str,
           reviewer: str | None = None, label: str | None = None, channel: str | None = None) -> list[str]:
    """Record approve/reject for posts (by id, every post carrying the shop's indicator, or every post of a drug
    channel built by `narcotrace channels`). Returns the ids.

    Unknown ids are an error before anything is written; approving needs a sale or recruitment label
    (the model's, or --label)."""
    if decision not in ("approve", "reject"):
        raise UserError(f"decision {decision}: use approve or reject")
    if not reason or not reason.strip():
        raise UserError("--reason: say why (it is kept with the decision and in the audit log)")
    if label is not None and label not in LABELS:
        raise UserError(f"--label {label}: use one of {', '.join(LABELS)}")
    if not post_ids and not shop and not channel:
        raise UserError("name the posts (IDs), a shop (--shop telegram:name) or a channel (--channel ID) to decide on")
    reviewer = reviewer or current_user()
    ids = list(dict.fromkeys(post_ids))
    shop_id = None
    if ids:
        known = {r[0] for r in ws.con.execute(
            "SELECT post_id FROM posts WHERE post_id IN (SELECT unnest(?))", [ids]).fetchall()}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise UserError(f"unknown post id(s): {', '.join(unknown)}; see `narcotrace review queue`")
    if shop:
        shop_id = shop_identifier(shop)
        kind, _, value = shop_id.partition(":")
        found = [r[0] for r in ws.con.execute(
            "SELECT DISTINCT post_id FROM indicators WHERE canonical_id = ? OR (kind = ? AND lower(value) = ?) "
            "ORDER BY post_id", [shop_id, kind, value.lower()]).fetchall()]
        if not found:
            raise UserError(f"--shop {shop}: no post carries the indicator {shop_id}")
        ids.extend(i for i in found if i not in ids)
    if channel:
        found = [r[0] for r in ws.con.execute(
            "SELECT DISTINCT member_id FROM channel_members WHERE channel_id = ? AND member_kind = 'post' "
            "ORDER BY member_id", [channel]).fetchall()]
        if not found:
            raise UserError(f"--channel {channel}: no such drug channel (or it has no posts); see `narcotrace channels`")
        ids.extend(i for i in found if i not in ids)
    labels = dict(ws.con.execute("SELECT post_id, label FROM posts WHERE post_id IN (SELECT unnest(?))",
                                 [ids]).fetchall())
    if decision == "approve" and label is None:
        unlabelled = [i for i in ids if labels.get(i) not in FLAGGED]
        if unlabelled:
            raise UserError(f"post(s) {', '.join(unlabelled[:10])} have no sale/recruitment label from the model; "
                            "approve them with --label sale or --label recruitment")
    now = utcnow()
    shop_note = f" [shop {shop_id}]" if shop_id else ""
    rows = [(uuid.uuid4().hex, "post", i, decision, label, reason.strip() + shop_note, reviewer, now) for i in ids]
    if shop_id:
        rows.append((uuid.uuid4().hex, "shop", shop_id, decision, label, reason.strip(), reviewer, now))
    if channel:
        rows.append((uuid.uuid4().hex, "channel", channel, decision, label, reason.strip(), reviewer, now))
    ws.con.executemany("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    ws.audit(decision, channel or shop_id or ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else ""),
             {"posts": ids, "shop": shop_id, "channel": channel, "reason": reason.strip(), "label": label},
             actor=reviewer)
    return ids


def decisions_for_training(ws) -> list[tuple[str, str, str]]:
    """(post_id, text, label) from each post's latest decision, for `narcotrace train`.

    Approve keeps the corrected label or the model's; reject means `none` unless a label was given.
    """
    rows = ws.con.execute(f"""
        WITH latest AS ({_LATEST})
        SELECT p.post_id, p.text,
               coalesce(d.label, CASE WHEN d.decision = 'approve' THEN p.label ELSE 'none' END) AS label
        FROM latest d JOIN posts p ON p.post_id = d.post_id
        WHERE d.rn = 1 AND p.text IS NOT NULL
        ORDER BY p.post_id
    """).fetchall()
    return [(r[0], r[1], r[2]) for r in rows if r[2] in LABELS]
