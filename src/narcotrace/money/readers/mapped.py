"""Any other transfers CSV, read through a small YAML mapping (column names, date format, decimal comma).

A mapping names, for each canonical field, the file's column (or a list: the first non-empty wins, as for
Halyk's separate debit and credit columns), and how to read the text. Statements of one account
(`statement_account`) take the counterparty from one column and the direction from the sign of the
amount or from separate in/out amount columns. Example mappings for Kazakh bank statement layouts ship
in narcotrace/money/mappings/ (see docs/formats.md).
"""

from __future__ import annotations

import codecs
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from narcotrace.errors import InputError, UserError
from narcotrace.money.readers.base import Staged, TransferReader, sql_str
from narcotrace.money.readers.tabular import amount_expr, nullif_blank, qi, read_csv_numbered, ts_expr

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"
FIELDS = ("transfer_id", "timestamp", "from_account", "to_account", "from_bank", "to_bank", "amount",
          "currency", "channel", "description", "counterparty", "counterparty_bank", "amount_in", "amount_out")
OPTIONS = ("name", "description_of_layout", "delimiter", "encoding", "skip_rows", "decimal", "thousands",
           "timezone", "timestamp_format", "currency_default", "statement_account", "statement_bank",
           "channel_default", "columns")


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    columns: dict[str, list[str]]
    delimiter: str | None = None
    encoding: str = "utf-8"
    skip_rows: int = 0
    decimal: str = "."
    thousands: str | None = None
    timezone: str | None = None
    timestamp_format: str | None = None
    currency_default: str | None = None
    statement_account: str | None = None
    statement_bank: str | None = None
    channel_default: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Mapping:
        if not path.exists() and (MAPPINGS_DIR / path.name).exists():
            path = MAPPINGS_DIR / path.name  # a shipped example named by file name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise UserError(f"--mapping {path}: cannot read: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise UserError(f"--mapping {path}: needs a `columns:` section mapping fields to column names")
        unknown = [k for k in data if k not in OPTIONS]
        if unknown:
            raise UserError(f"--mapping {path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
        bad = [k for k in data["columns"] if k not in FIELDS]
        if bad:
            raise UserError(f"--mapping {path}: unknown field(s) {', '.join(bad)} under columns; "
                            f"known: {', '.join(FIELDS)}")
        cols = {k: ([v] if isinstance(v, str) else [str(x) for x in v]) for k, v in data["columns"].items()}
        if data.get("decimal", ".") not in (".", ","):
            raise UserError(f"--mapping {path}: decimal must be '.' or ','")
        m = cls(path=path, columns=cols, delimiter=data.get("delimiter"),
                encoding=str(data.get("encoding", "utf-8")), skip_rows=int(data.get("skip_rows", 0)),
                decimal=str(data.get("decimal", ".")), thousands=data.get("thousands"),
                timezone=data.get("timezone"), timestamp_format=data.get("timestamp_format"),
                currency_default=data.get("currency_default"), statement_account=data.get("statement_account"),
                statement_bank=data.get("statement_bank"), channel_default=data.get("channel_default"))
        if m.statement_account:
            if "counterparty" not in cols or not ({"amount", "amount_in", "amount_out"} & cols.keys()):
                raise UserError(f"--mapping {path}: a statement mapping needs columns counterparty and amount "
                                "(signed) or amount_in/amount_out")
        else:
            missing = [f for f in ("timestamp", "from_account", "to_account") if f not in cols]
            if "amount" not in cols:
                missing.append("amount")
            if missing:
                raise UserError(f"--mapping {path}: columns must name {', '.join(missing)}")
        if "timestamp" not in cols:
            raise UserError(f"--mapping {path}: columns must name timestamp")
        if "currency" not in cols and not m.currency_default:
            raise UserError(f"--mapping {path}: name a currency column or set currency_default")
        return m


class MappedCsvReader(TransferReader):
    name = "mapped"

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping

    @classmethod
    def from_file(cls, path: Path) -> MappedCsvReader:
        return cls(Mapping.load(Path(path)))

    def stage(self, con: Any, path: Path) -> Staged:
        m = self.mapping
        csv_path = _as_utf8(path, m.encoding)
        try:
            table, rejected, cols = read_csv_numbered(con, csv_path, delim=m.delimiter, skip=m.skip_rows)
        finally:
            if csv_path != path:  # the transcoded copy is in DuckDB now
                shutil.rmtree(csv_path.parent, ignore_errors=True)

        def col(fieldname: str) -> str:
            names = m.columns.get(fieldname)
            if not names:
                return "NULL::VARCHAR"
            for n in names:
                if n not in cols:
                    raise InputError(path, f"column {n!r} (mapping {m.path.name}, field {fieldname}) not in the "
                                           f"file; its columns: {', '.join(cols[:20])}", row=m.skip_rows + 1)
            parts = [nullif_blank(qi(n)) for n in names]
            return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"

        def amount(c: str) -> str:
            return amount_expr(c, m.decimal, m.thousands)

        ts = col("timestamp")
        currency = col("currency")
        if m.currency_default:
            currency = f"coalesce({currency}, {sql_str(m.currency_default)})"
        channel = col("channel")
        if m.channel_default:
            channel = f"coalesce({channel}, {sql_str(m.channel_default)})"
        if m.statement_account:
            me, other = sql_str(m.statement_account), col("counterparty")
            my_bank = sql_str(m.statement_bank) if m.statement_bank else "NULL::VARCHAR"
            other_bank = col("counterparty_bank")
            if "amount" in m.columns:
                signed_raw = col("amount")
                signed = amount(signed_raw)
            else:
                signed_raw = f"coalesce({col('amount_in')}, '-' || {col('amount_out')})"
                signed = (f"coalesce({amount(col('amount_in'))}, -{amount(col('amount_out'))})")
            incoming = f"({signed}) > 0"
            from_acc = f"CASE WHEN {incoming} THEN {other} ELSE {me} END"
            to_acc = f"CASE WHEN {incoming} THEN {me} ELSE {other} END"
            from_bank = f"CASE WHEN {incoming} THEN {other_bank} ELSE {my_bank} END"
            to_bank = f"CASE WHEN {incoming} THEN {my_bank} ELSE {other_bank} END"
            amt, amt_raw = f"abs({signed})", signed_raw
            # A zero amount has no direction; it is quarantined as zero like any other.
            amt = f"CASE WHEN ({signed}) = 0 THEN 0.0 ELSE {amt} END"
        else:
            from_acc, to_acc = col("from_account"), col("to_account")
            from_bank, to_bank = col("from_bank"), col("to_bank")
            amt_raw = col("amount")
            amt = amount(amt_raw)
        raw = "concat_ws(',', " + ", ".join(f"{qi(c)}" for c in cols) + ")"
        sql = f"""
            SELECT _rn AS source_row, {col('transfer_id')} AS transfer_id,
                   {ts_expr(ts, m.timestamp_format, m.timezone)} AS timestamp, {ts} AS timestamp_raw,
                   {from_acc} AS from_account, {to_acc} AS to_account,
                   {from_bank} AS from_bank, {to_bank} AS to_bank,
                   {amt} AS amount, {amt_raw} AS amount_raw, {currency} AS currency,
                   {channel} AS channel, {col('description')} AS description,
                   NULL::INTEGER AS label, NULL::VARCHAR AS typology, {raw} AS raw, NULL::VARCHAR AS reject
            FROM {table}"""
        return Staged(sql=sql, rejected_sql=rejected)


def _as_utf8(path: Path, encoding: str) -> Path:
    """A UTF-8 copy of a file in another encoding (Windows-1251 is common in KZ/RU bank exports)."""
    enc = codecs.lookup(encoding).name
    if enc in ("utf-8", "utf-8-sig"):
        return path
    tmp = Path(tempfile.mkdtemp(prefix="narcotrace-csv-")) / (path.stem + ".utf8.csv")
    try:
        with path.open("r", encoding=enc, newline="") as src, tmp.open("w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(1 << 20), ""):
                dst.write(chunk)
    except UnicodeDecodeError as e:
        raise InputError(path, f"not valid {encoding} (byte {e.start}); set `encoding:` in the mapping") from e
    return tmp
