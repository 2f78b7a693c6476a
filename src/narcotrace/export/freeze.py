"""Freeze list CSV: accounts to freeze with bank, reason, score and evidence transfer ids.

Only confirmed alerts by default (a person approved them); with --proposed, unreviewed alerts are listed
too, each row marked `proposed` in the `approval` column. Lists are joined with ';'.
"""

from __future__ import annotations

import csv
from pathlib import Path

from narcotrace.csvsafe import row as safe_row
from narcotrace.export.approved import alerts_for_export
from narcotrace.workspace import Workspace

COLUMNS = ["account_id", "bank", "reason", "score", "evidence_transfer_ids", "approval", "role", "typologies",
           "alert_id", "model_version", "reviewed_by", "reviewed_at", "review_reason"]


def account_banks(ws: Workspace, accounts: list[str]) -> dict[str, str]:
    """Bank of each account: the accounts table, else the bank named on its transfers."""
    if not accounts:
        return {}
    ws.con.execute("CREATE OR REPLACE TEMP TABLE _freeze_accounts (account_id VARCHAR)")
    ws.con.executemany("INSERT INTO _freeze_accounts VALUES (?)", [(a,) for a in accounts])
    rows = ws.con.execute("""
        WITH seen AS (
            SELECT from_account AS account_id, from_bank AS bank FROM transfers
            WHERE from_account IN (SELECT account_id FROM _freeze_accounts) AND from_bank IS NOT NULL
            UNION ALL
            SELECT to_account, to_bank FROM transfers
            WHERE to_account IN (SELECT account_id FROM _freeze_accounts) AND to_bank IS NOT NULL
        )
        SELECT f.account_id, coalesce(a.bank, (SELECT mode(bank) FROM seen s WHERE s.account_id = f.account_id))
        FROM _freeze_accounts f LEFT JOIN accounts a USING (account_id)
    """).fetchall()
    ws.con.execute("DROP TABLE _freeze_accounts")
    return {a: b or "" for a, b in rows}


def export(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None) -> int:
    """Write the freeze list; return the number of accounts listed."""
    rows = alerts_for_export(ws, proposed=proposed, channel=channel)
    banks = account_banks(ws, [r["account_id"] for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            reason = " | ".join(r["reasons"][:3])
            reviewed = r["approval"] == "approved"
            w.writerow(safe_row([r["account_id"], banks.get(r["account_id"], ""), reason, f"{r['score']:.4f}",
                        ";".join(r["evidence_transfer_ids"]), r["approval"], r["role"], ";".join(r["typologies"]),
                        r["alert_id"], r["model_version"], r["updated_by"] if reviewed else "",
                        r["updated_at"].isoformat() if reviewed and r["updated_at"] else "",
                        r["status_reason"] if reviewed else ""]))
    ws.audit("freeze_list", str(out), {
        "accounts": [r["account_id"] for r in rows], "alerts": [r["alert_id"] for r in rows],
        "approved": sum(r["approval"] == "approved" for r in rows),
        "proposed": sum(r["approval"] == "proposed" for r in rows), "channel": channel})
    return len(rows)
