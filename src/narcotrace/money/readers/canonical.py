"""Canonical transfers and accounts as `narcotrace simulate` writes them (Parquet or CSV, our column names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narcotrace.errors import InputError
from narcotrace.money.readers.base import Staged, TransferReader, sql_str
from narcotrace.money.readers.tabular import amount_expr, nullif_blank, qi, read_csv_numbered, ts_expr

REQUIRED = ("timestamp", "from_account", "to_account", "amount", "currency")
OPTIONAL = ("transfer_id", "from_bank", "to_bank", "channel", "description")
# What the payer typed on a card or phone transfer: passed on (beyond the STAGE columns) so ingest can
# record them as the receiving account's identifiers.
TYPED = ("to_card", "to_phone")
# Truth columns a simulated world may carry beside the transfers, kept as labels for training.
LABEL_COLUMNS = ("is_laundering", "is_suspicious", "is_drug_payment", "label")


def columns_of(con: Any, path: Path) -> list[str]:
    """Column names of a Parquet or CSV file (header only)."""
    try:
        if path.suffix.lower() == ".parquet":
            rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_str(path)})").fetchall()
        else:
            rows = con.execute(f"DESCRIBE SELECT * FROM read_csv({sql_str(path)}, all_varchar=true, "
                               f"sample_size=2048, store_rejects=true)").fetchall()
    except Exception as e:  # duckdb.Error
        raise InputError(path, f"cannot read columns: {str(e).splitlines()[0]}") from e
    return [r[0] for r in rows]


def is_canonical_transfers(cols: list[str]) -> bool:
    return all(c in cols for c in REQUIRED)


def is_accounts(cols: list[str]) -> bool:
    return "account_id" in cols and "from_account" not in cols


class CanonicalReader(TransferReader):
    """Our own transfers schema (docs/formats.md); Parquet is read typed, CSV as text and cast here."""

    name = "canonical"

    def stage(self, con: Any, path: Path) -> Staged:
        if path.suffix.lower() == ".parquet":
            try:
                types = dict((r[0], r[1]) for r in con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({sql_str(path)})").fetchall())
            except Exception as e:  # duckdb.Error
                raise InputError(path, f"cannot read as Parquet: {str(e).splitlines()[0]}") from e
            src = f"(SELECT file_row_number + 1 AS _rn, * FROM read_parquet({sql_str(path)}, file_row_number=true))"
            rejected, table_csv = None, None
        else:
            table, rejected, cols = read_csv_numbered(con, path)
            table_csv = table
            types = {c: "VARCHAR" for c in cols}
            src = table
        missing = [c for c in REQUIRED if c not in types]
        if missing:
            raise InputError(path, f"not a canonical transfers file: missing column(s) {', '.join(missing)}; "
                                   "use --format ibm|amlsim|mapped for other layouts")
        ts_type = types["timestamp"].upper()
        if ts_type.startswith("TIMESTAMP WITH TIME ZONE"):
            ts = "timezone('UTC', timestamp)"
        elif ts_type.startswith("TIMESTAMP") or ts_type == "DATE":
            ts = "CAST(timestamp AS TIMESTAMP)"
        else:
            ts = ts_expr('CAST("timestamp" AS VARCHAR)')
        amt_type = types["amount"].upper()
        amount = ("CAST(amount AS DOUBLE)" if amt_type in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "HUGEINT")
                  or amt_type.startswith("DECIMAL") else amount_expr("CAST(amount AS VARCHAR)"))
        # Typed Parquet columns are turned back into text only where they failed (text is costly at 50 M).
        ts_raw = ('CAST("timestamp" AS VARCHAR)' if types["timestamp"].upper() == "VARCHAR"
                  else f'CASE WHEN ({ts}) IS NULL THEN CAST("timestamp" AS VARCHAR) END')
        amount_raw = ("CAST(amount AS VARCHAR)" if amt_type == "VARCHAR"
                      else f"CASE WHEN ({amount}) IS NULL THEN CAST(amount AS VARCHAR) END")
        def text(c: str) -> str:
            # Typed Parquet text needs no trimming (it costs a third of the read at millions of rows); CSV does.
            if types[c].upper() == "VARCHAR" and src != table_csv:
                return f"nullif({qi(c)}, '')"
            return nullif_blank(f"CAST({qi(c)} AS VARCHAR)")

        opt = {c: (text(c) if c in types else "NULL::VARCHAR") for c in OPTIONAL}
        label_col = next((c for c in LABEL_COLUMNS if c in types), None)
        label = (f"TRY_CAST(TRY_CAST({qi(label_col)} AS BOOLEAN) AS INTEGER)" if label_col else "NULL::INTEGER")
        typed = "".join(f", {text(c)} AS {c}" for c in TYPED if c in types)
        sql = f"""
            SELECT _rn AS source_row, {opt['transfer_id']} AS transfer_id, {ts} AS timestamp,
                   {ts_raw} AS timestamp_raw,
                   {text('from_account')} AS from_account, {text('to_account')} AS to_account,
                   {opt['from_bank']} AS from_bank, {opt['to_bank']} AS to_bank,
                   {amount} AS amount, {amount_raw} AS amount_raw,
                   CAST(currency AS VARCHAR) AS currency, {opt['channel']} AS channel,
                   {opt['description']} AS description, {label} AS label, NULL::VARCHAR AS typology,
                   NULL::VARCHAR AS raw, NULL::VARCHAR AS reject{typed}
            FROM {src}"""
        return Staged(sql=sql, rejected_sql=rejected, labels_source=label_col and f"simulate:{label_col}")
