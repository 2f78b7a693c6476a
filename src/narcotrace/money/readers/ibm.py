"""IBM's "Realistic Synthetic Financial Transactions for AML" CSV (HI-/LI-Small/Medium/Large_Trans.csv).

Its header names `Account` twice (payer, then payee), so columns are taken by position. The payer's leg
(Amount Paid, Payment Currency) is the transfer's amount; a different received leg is noted in the
description. `Is Laundering` goes to `transfer_labels` (source ibm_aml). Timestamps have no zone: read as UTC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narcotrace.money.readers.base import Staged, TransferReader
from narcotrace.money.readers.tabular import amount_expr, nullif_blank, read_csv_numbered, ts_expr

HEADER = ("Timestamp", "From Bank", "Account", "To Bank", "Account", "Amount Received", "Receiving Currency",
          "Amount Paid", "Payment Currency", "Payment Format", "Is Laundering")
NAMES = ["ts", "from_bank", "from_acct", "to_bank", "to_acct", "amount_received", "receiving_currency",
         "amount_paid", "payment_currency", "payment_format", "is_laundering"]


def looks_like(header_line: str) -> bool:
    cells = [c.strip().strip('"') for c in header_line.strip().split(",")]
    return tuple(cells[:5]) == HEADER[:5] and "Is Laundering" in cells


class IbmAmlReader(TransferReader):
    name = "ibm"

    def stage(self, con: Any, path: Path) -> Staged:
        table, rejected, _ = read_csv_numbered(con, path, delim=",", names=NAMES)
        fmt = nullif_blank("payment_format")
        # Bitcoin rows are crypto transfers; the other formats keep IBM's words in snake case.
        channel = (f"CASE WHEN lower({fmt}) = 'bitcoin' THEN 'crypto_btc' "
                   f"ELSE replace(lower({fmt}), ' ', '_') END")
        sql = f"""
            SELECT _rn AS source_row, NULL::VARCHAR AS transfer_id,
                   {ts_expr('ts', '%Y/%m/%d %H:%M')} AS timestamp, ts AS timestamp_raw,
                   {nullif_blank('from_acct')} AS from_account, {nullif_blank('to_acct')} AS to_account,
                   {nullif_blank('from_bank')} AS from_bank, {nullif_blank('to_bank')} AS to_bank,
                   {amount_expr('amount_paid')} AS amount, amount_paid AS amount_raw,
                   payment_currency AS currency, {channel} AS channel,
                   CASE WHEN receiving_currency IS DISTINCT FROM payment_currency
                             OR amount_received IS DISTINCT FROM amount_paid
                        THEN 'received ' || amount_received || ' ' || receiving_currency END AS description,
                   TRY_CAST(is_laundering AS INTEGER) AS label, NULL::VARCHAR AS typology,
                   concat_ws(',', ts, from_bank, from_acct, to_bank, to_acct, amount_received,
                             receiving_currency, amount_paid, payment_currency, payment_format,
                             is_laundering) AS raw,
                   CASE WHEN is_laundering IS NULL THEN 'malformed row: missing columns' END AS reject
            FROM {table}"""
        return Staged(sql=sql, rejected_sql=rejected, labels_source="ibm_aml")


PATTERNS_MARK = b"BEGIN LAUNDERING ATTEMPT"


def pattern_rows(path: Path) -> list[tuple[int, str, str | None, list[str] | None, str]]:
    """Rows of an IBM `*_Patterns.txt`: (line, typology, detail, CSV cells or None when malformed, raw line).

    Blocks read `BEGIN LAUNDERING ATTEMPT - <TYPE>[:  <detail>]` ... `END LAUNDERING ATTEMPT - <TYPE>`;
    the lines inside are transactions in the `_Trans.csv` row format (no header).
    """
    out: list[tuple[int, str, str | None, list[str] | None, str]] = []
    typology: str | None = None
    detail: str | None = None
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if line.startswith("BEGIN LAUNDERING ATTEMPT - "):
                head = line[len("BEGIN LAUNDERING ATTEMPT - "):]
                typology, _, rest = head.partition(":")
                typology, detail = typology.strip().lower(), (rest.strip() or None)
            elif line.startswith("END LAUNDERING ATTEMPT"):
                typology = detail = None
            elif line.strip():
                cells = line.split(",")
                out.append((n, typology or "unknown", detail, cells if len(cells) == 11 else None, line))
    return out
