"""IBM AMLSim output: `transactions.csv` (tran_id, orig_acct, bene_acct, tx_type, base_amt, tran_timestamp,
is_sar, alert_id) and `accounts.csv` (acct_id, dsply_nm, type, acct_stat, acct_rptng_crncy, branch_id,
open_dt, close_dt, prior_sar_count, ..., country), column names per AMLSim's schema.json.

AMLSim amounts carry no currency; they are in each account's reporting currency, USD by default.
SAR flags (`is_sar`, or `is_fraud` in older versions) go to `transfer_labels` (source amlsim).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narcotrace.errors import InputError
from narcotrace.money.readers.base import Staged, TransferReader
from narcotrace.money.readers.tabular import amount_expr, nullif_blank, qi, read_csv_numbered, ts_expr

TRANSACTION_COLUMNS = ("tran_id", "orig_acct", "bene_acct", "base_amt", "tran_timestamp")
ACCOUNT_COLUMNS = ("acct_id",)
DEFAULT_CURRENCY = "USD"


def is_transactions(cols: list[str]) -> bool:
    return all(c in cols for c in ("orig_acct", "bene_acct", "base_amt"))


def is_accounts(cols: list[str]) -> bool:
    return "acct_id" in cols and "orig_acct" not in cols


def _flag(col: str) -> str:
    return f"CASE WHEN lower(trim({col})) IN ('true', '1', 't', 'yes') THEN 1 ELSE 0 END"


class AmlSimReader(TransferReader):
    name = "amlsim"

    def stage(self, con: Any, path: Path) -> Staged:
        table, rejected, cols = read_csv_numbered(con, path)
        missing = [c for c in TRANSACTION_COLUMNS if c not in cols]
        if missing:
            raise InputError(path, f"not an AMLSim transactions file: missing column(s) {', '.join(missing)}")
        sar = next((c for c in ("is_sar", "is_fraud") if c in cols), None)
        label = _flag(sar) if sar else "NULL::INTEGER"
        typology = (f"CASE WHEN nullif(trim(alert_id), '') IS NOT NULL AND nullif(trim(alert_id), '') <> '-1' "
                    f"THEN 'amlsim alert ' || trim(alert_id) END") if "alert_id" in cols else "NULL::VARCHAR"
        tx_type = nullif_blank("tx_type") if "tx_type" in cols else "NULL::VARCHAR"
        currency = f"coalesce({nullif_blank(qi('currency'))}, '{DEFAULT_CURRENCY}')" if "currency" in cols \
            else f"'{DEFAULT_CURRENCY}'"
        raw_cols = ", ".join(qi(c) for c in cols)
        sql = f"""
            SELECT _rn AS source_row, {nullif_blank('tran_id')} AS transfer_id,
                   {ts_expr('tran_timestamp')} AS timestamp, tran_timestamp AS timestamp_raw,
                   {nullif_blank('orig_acct')} AS from_account, {nullif_blank('bene_acct')} AS to_account,
                   NULL::VARCHAR AS from_bank, NULL::VARCHAR AS to_bank,
                   {amount_expr('base_amt')} AS amount, base_amt AS amount_raw, {currency} AS currency,
                   lower({tx_type}) AS channel, NULL::VARCHAR AS description,
                   {label} AS label, {typology} AS typology,
                   concat_ws(',', {raw_cols}) AS raw, NULL::VARCHAR AS reject
            FROM {table}"""
        return Staged(sql=sql, rejected_sql=rejected, labels_source="amlsim")


def accounts_sql(con: Any, path: Path) -> tuple[str, str]:
    """AMLSim accounts.csv as a SELECT in the accounts-staging shape (see ingest.ACCOUNT_FIELDS)."""
    table, rejected, cols = read_csv_numbered(con, path)

    def col(name: str) -> str:
        return nullif_blank(qi(name)) if name in cols else "NULL::VARCHAR"

    bank = f"coalesce({col('bank_id')}, {col('branch_id')})"
    sql = f"""
        SELECT _rn AS source_row, {col('acct_id')} AS account_id, 'bank' AS kind, {bank} AS bank,
               {col('country')} AS country, NULL::VARCHAR AS holder_id, {col('dsply_nm')} AS holder_name,
               NULL::VARCHAR AS holder_kind, NULL::VARCHAR AS card, NULL::VARCHAR AS phone,
               NULL::VARCHAR AS iban, NULL::VARCHAR AS address, {col('acct_rptng_crncy')} AS currency,
               NULL::TIMESTAMP AS opened_at, concat_ws(',', {', '.join(qi(c) for c in cols)}) AS raw
        FROM {table}"""
    return sql, rejected
