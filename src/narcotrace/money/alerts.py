"""Alerts: accounts flagged for review, built from scores and typology hits, and their review flow.

Status flow: new -> in_review -> confirmed | dismissed (an analyst may also reopen to in_review).
Every change is stored in `alert_events` (who, when, why), the `decisions` table and the audit log.
`build_alerts` is idempotent: it replaces alerts still `new` and leaves reviewed ones alone.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narcotrace.csvsafe import row as safe_row
from narcotrace.errors import UserError
from narcotrace.workspace import Workspace, current_user, utcnow

STATUSES = ("new", "in_review", "confirmed", "dismissed")
ALLOWED = {
    "new": {"in_review", "confirmed", "dismissed"},
    "in_review": {"confirmed", "dismissed"},
    "confirmed": {"in_review"},
    "dismissed": {"in_review"},
}
SUSPECT_ROLES = ("drop", "collector", "exchanger", "cash_out", "laundering")
MAX_EVIDENCE = 50
MAX_REASONS = 6


def alert_id_for(account_id: str) -> str:
    """Stable id, so re-running analyze gives the same alert the same id."""
    return "AL-" + hashlib.sha1(account_id.encode("utf-8")).hexdigest()[:12]


@dataclass
class AlertCounts:
    created: int
    replaced: int
    kept_reviewed: int


def build_alerts(ws: Workspace, *, min_score: float = 0.5, max_alerts: int | None = None) -> AlertCounts:
    """Turn `account_scores` + `typology_hits` into alerts for accounts scoring at least `min_score`."""
    con = ws.con
    now = utcnow()
    replaced = con.execute("SELECT count(*) FROM alerts WHERE status = 'new'").fetchone()[0]
    with ws.transaction():
        con.execute("DELETE FROM alerts WHERE status = 'new'")
        limit = f"LIMIT {int(max_alerts)}" if max_alerts else ""
        # typology hits per account: a hit names its accounts in account_ids (anchor first)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _alert_candidates AS
            SELECT s.account_id, s.score, s.role, s.role_score, s.model_version
            FROM account_scores s
            WHERE s.score >= ? AND s.role IN {SUSPECT_ROLES}
              AND s.account_id NOT IN (SELECT account_id FROM alerts)
            ORDER BY s.score DESC, s.account_id {limit}
        """, [min_score])
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _alert_hits AS
            WITH members AS (
                SELECT h.hit_id, h.typology, h.explanation, h.amount, h.transfer_ids,
                       unnest(h.account_ids) AS account_id,
                       generate_subscripts(h.account_ids, 1) AS pos
                FROM typology_hits h
            )
            SELECT m.*, row_number() OVER (PARTITION BY m.account_id
                                           ORDER BY (m.pos = 1) DESC, m.amount DESC, m.hit_id) AS rk
            FROM members m JOIN _alert_candidates c USING (account_id)
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _alert_rows AS
            WITH t AS (
                SELECT account_id, list(DISTINCT typology ORDER BY typology) AS typologies,
                       list(explanation ORDER BY rk) FILTER (WHERE rk <= {MAX_REASONS - 1}) AS hit_reasons
                FROM _alert_hits GROUP BY account_id
            ),
            ev AS (
                SELECT account_id, list(DISTINCT tid ORDER BY tid) AS tids FROM (
                    SELECT account_id, unnest(transfer_ids) AS tid FROM _alert_hits WHERE rk <= 10
                ) GROUP BY account_id
            ),
            fallback AS (  -- accounts scored high without a shape: their largest transfers are the evidence
                SELECT account_id, list(transfer_id ORDER BY amt DESC, transfer_id) AS tids FROM (
                    SELECT c.account_id, x.transfer_id, coalesce(x.amount_base, x.amount) AS amt,
                           row_number() OVER (PARTITION BY c.account_id
                                              ORDER BY coalesce(x.amount_base, x.amount) DESC, x.transfer_id) AS rn
                    FROM (SELECT * FROM _alert_candidates WHERE account_id NOT IN (SELECT account_id FROM ev)) c
                    JOIN (SELECT transfer_id, amount, amount_base, from_account AS acct FROM transfers
                          UNION ALL
                          SELECT transfer_id, amount, amount_base, to_account FROM transfers) x
                      ON x.acct = c.account_id  -- two equi-joins, not an OR-join (which DuckDB runs as a nested loop)
                ) WHERE rn <= 20 GROUP BY account_id
            )
            SELECT c.*, coalesce(t.typologies, []::VARCHAR[]) AS typologies,
                   coalesce(t.hit_reasons, []::VARCHAR[]) AS hit_reasons,
                   coalesce(ev.tids, fallback.tids, []::VARCHAR[])[1:{MAX_EVIDENCE}] AS evidence
            FROM _alert_candidates c
            LEFT JOIN t USING (account_id) LEFT JOIN ev USING (account_id) LEFT JOIN fallback USING (account_id)
        """)
        rows = con.execute("SELECT * FROM _alert_rows ORDER BY score DESC, account_id").fetchall()
        cols = [d[0] for d in con.description]
        batch = []
        for row in rows:
            r = dict(zip(cols, row))
            head = (f"risk {r['score']:.2f} from {r['model_version']}; suspected {r['role']}"
                    + (f" (p={r['role_score']:.2f})" if r["role_score"] is not None else ""))
            batch.append((alert_id_for(r["account_id"]), r["account_id"], float(r["score"]), r["role"],
                          list(r["typologies"]), [head, *r["hit_reasons"]], list(r["evidence"]),
                          r["model_version"], "new", now, now, "system", "created by analyze"))
        if batch:
            con.executemany("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        kept = con.execute("SELECT count(*) FROM alerts WHERE status <> 'new'").fetchone()[0]
        for tmp in ("_alert_candidates", "_alert_hits", "_alert_rows"):
            con.execute(f"DROP TABLE IF EXISTS {tmp}")
    return AlertCounts(created=len(batch), replaced=replaced, kept_reviewed=kept)


def set_status(ws: Workspace, alert_id: str, status: str, reason: str, by: str | None = None) -> dict[str, Any]:
    """Move an alert along the review flow, recording who, when and why."""
    if status not in STATUSES or status == "new":
        raise UserError(f"--status {status}: choose one of in_review, confirmed, dismissed")
    if not reason or not reason.strip():
        raise UserError("--reason: say why (it is stored with the decision)")
    row = ws.con.execute("SELECT status FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
    if row is None:
        raise UserError(f"alert {alert_id}: no such alert; list them with `narcotrace alerts`")
    old = row[0]
    if status not in ALLOWED[old]:
        raise UserError(f"alert {alert_id}: cannot go from {old} to {status}; allowed: {', '.join(sorted(ALLOWED[old]))}")
    who = by or current_user()
    now = utcnow()
    event_id = "EV-" + hashlib.sha1(f"{alert_id}|{now.isoformat()}|{status}".encode()).hexdigest()[:12]
    with ws.transaction() as con:
        con.execute("UPDATE alerts SET status = ?, updated_at = ?, updated_by = ?, status_reason = ? WHERE alert_id = ?",
                    [status, now, who, reason, alert_id])
        con.execute("INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [event_id, alert_id, now, who, old, status, reason])
        decision = {"in_review": "in_review", "confirmed": "confirm", "dismissed": "dismiss"}[status]
        con.execute("INSERT INTO decisions VALUES (?, 'alert', ?, ?, NULL, ?, ?, ?)",
                    [event_id, alert_id, decision, reason, who, now])
    ws.audit("alert_status", alert_id, {"from": old, "to": status, "reason": reason}, actor=who)
    return {"alert_id": alert_id, "from": old, "to": status, "by": who, "at": now.isoformat(), "reason": reason}


LIST_COLUMNS = ["account_id", "alert_id", "score", "role", "typologies", "reasons", "evidence_transfer_ids",
                "model_version", "status", "created_at", "updated_at", "updated_by", "status_reason"]


def list_alerts(ws: Workspace, *, status: str | None = None, min_score: float = 0.0,
                limit: int | None = None) -> list[dict[str, Any]]:
    """Alerts, highest score first; `account_id` first so a CSV's first column is the account."""
    if status is not None and status not in STATUSES:
        raise UserError(f"--status {status}: choose one of {', '.join(STATUSES)}")
    sql = f"SELECT {', '.join(LIST_COLUMNS)} FROM alerts WHERE score >= ?"
    args: list[Any] = [min_score]
    if status:
        sql += " AND status = ?"
        args.append(status)
    sql += " ORDER BY score DESC, account_id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(zip(LIST_COLUMNS, r)) for r in ws.con.execute(sql, args).fetchall()]


def write_alerts(rows: list[dict[str, Any]], out: Path) -> None:
    """CSV (lists joined with ';') or JSONL, chosen by the file's extension."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise UserError(f"--out {out}: use a .csv or .jsonl file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".jsonl":
        with out.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
        return
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(LIST_COLUMNS)
        for r in rows:
            # account ids and reasons come from input files: keep spreadsheets from running them as formulas
            w.writerow(safe_row([";".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                                 for v in (r[c] for c in LIST_COLUMNS)]))


def events(ws: Workspace, alert_id: str) -> list[dict[str, Any]]:
    cols = ["event_id", "alert_id", "at", "actor", "from_status", "to_status", "reason"]
    quoted = ", ".join(f'"{c}"' for c in cols)  # `at` is an SQL keyword
    rows = ws.con.execute(f'SELECT {quoted} FROM alert_events WHERE alert_id = ? ORDER BY "at"', [alert_id])
    return [dict(zip(cols, r)) for r in rows.fetchall()]
