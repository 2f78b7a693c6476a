"""Which alerts an export may carry: confirmed ones, plus unreviewed ones marked as proposals with --proposed."""

from __future__ import annotations

from typing import Any

from narcotrace.errors import UserError
from narcotrace.workspace import Workspace


def channel_accounts(ws: Workspace, channel: str) -> list[str]:
    """Accounts of a drug channel, from the channel_members table `narcotrace channels` fills."""
    if not ws.con.execute("SELECT count(*) FROM channel_members").fetchone()[0]:
        raise UserError(f"--channel {channel}: no drug channels in this workspace yet; run `narcotrace channels` first")
    rows = ws.con.execute("SELECT DISTINCT member_id FROM channel_members WHERE channel_id = ? AND member_kind = 'account'",
                          [channel]).fetchall()
    if not rows:
        raise UserError(f"--channel {channel}: unknown channel or it has no accounts; list channels with `narcotrace channels`")
    return [r[0] for r in rows]


def alerts_for_export(ws: Workspace, *, proposed: bool, channel: str | None) -> list[dict[str, Any]]:
    """Confirmed alerts (approved); with `proposed`, also new and in-review ones. Dismissed never."""
    statuses = ["confirmed", "new", "in_review"] if proposed else ["confirmed"]
    cols = ["alert_id", "account_id", "score", "role", "typologies", "reasons", "evidence_transfer_ids",
            "model_version", "status", "updated_at", "updated_by", "status_reason"]
    sql = f"SELECT {', '.join(cols)} FROM alerts WHERE status IN ({', '.join('?' * len(statuses))})"
    args: list[Any] = list(statuses)
    if channel:
        accounts = channel_accounts(ws, channel)
        sql += f" AND account_id IN ({', '.join('?' * len(accounts))})"
        args += accounts
    sql += " ORDER BY score DESC, account_id"
    rows = [dict(zip(cols, r)) for r in ws.con.execute(sql, args).fetchall()]
    for r in rows:
        r["approval"] = "approved" if r["status"] == "confirmed" else "proposed"
    return rows
