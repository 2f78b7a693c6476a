"""Shared SQL pieces for tabular readers: a CSV read into a numbered temp table, and safe typed casts."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from narcotrace.errors import InputError
from narcotrace.money.readers.base import sql_str

_seq = itertools.count()


def qi(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def read_csv_numbered(con: Any, path: Path, *, delim: str | None = None, skip: int = 0,
                      names: list[str] | None = None, header: bool = True) -> tuple[str, str, list[str]]:
    """Read a CSV (all text) into a temp table with `_rn` = data row (1 = first row after the header).

    Rows DuckDB cannot split into the header's columns land in its reject table instead of failing the
    file; they are returned as a SELECT of (source_row, reason, raw) for quarantine. Returns
    (table, rejected_sql, column names).
    """
    n = next(_seq)
    table, rej, scan = f"_csv_{n}", f"_csv_rej_{n}", f"_csv_rejscan_{n}"
    opts = ["all_varchar=true", f"header={'true' if header else 'false'}", "store_rejects=true",
            f"rejects_table={sql_str(rej)}", f"rejects_scan={sql_str(scan)}", "strict_mode=true",
            "null_padding=false", "auto_detect=true", "max_line_size=10000000"]
    if delim:
        opts.append(f"delim={sql_str(delim)}")
    if skip:
        opts.append(f"skip={int(skip)}")
    if names:
        opts.append("names=[" + ", ".join(sql_str(c) for c in names) + "]")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT row_number() OVER () AS _rn, * "
                    f"FROM read_csv({sql_str(path)}, {', '.join(opts)})")
    except Exception as e:  # duckdb.Error: unreadable, binary, no columns
        raise InputError(path, f"cannot read as CSV: {str(e).splitlines()[0]}") from e
    # Row numbers count only well-formed rows; shift them past the rejected ones so they match the file.
    first = skip + (1 if header else 0)  # file line of the header (0: none); data row = line - first
    has_rej = con.execute(f"SELECT count(*) FROM {rej}").fetchone()[0]
    if has_rej:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table}_shift AS
            SELECT line - {first} - (row_number() OVER (ORDER BY line) - 1) AS thr,
                   row_number() OVER (ORDER BY line) AS shift
            FROM (SELECT DISTINCT line FROM {rej})""")
        con.execute(f"""
            UPDATE {table} SET _rn = {table}._rn + s.shift
            FROM (SELECT t._rn AS rn, s.shift FROM {table} t ASOF JOIN {table}_shift s ON t._rn >= s.thr) s
            WHERE {table}._rn = s.rn""")
    # DuckDB logs one reject per faulty column; one quarantined row per faulty line is what the user sees.
    rejected = (f"SELECT DISTINCT ON (line) line - {first} AS source_row, 'malformed row: ' || "
                f"lower(error_type::VARCHAR) || coalesce(' (' || error_message || ')', '') AS reason, "
                f"csv_line AS raw FROM {rej} ORDER BY line, column_idx")
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "_rn"]
    return table, rejected, cols


def ts_expr(col: str, fmt: str | None = None, tz: str | None = None) -> str:
    """TIMESTAMP (UTC, naive) from text: explicit offsets honoured; naive times taken in `tz` (default UTC)."""
    c = f"trim({col})"
    if fmt:
        naive = f"try_strptime({c}, {sql_str(fmt)})::TIMESTAMP"
    else:
        naive = f"TRY_CAST({c} AS TIMESTAMP)"
    if tz and tz.upper() != "UTC":
        naive = f"timezone('UTC', timezone({sql_str(tz)}, {naive}))"
    aware = f"timezone('UTC', TRY_CAST({c} AS TIMESTAMPTZ))"
    if fmt:
        return naive
    return f"CASE WHEN regexp_matches({c}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') THEN {aware} ELSE {naive} END"


def amount_expr(col: str, decimal: str = ".", thousands: str | None = None) -> str:
    """DOUBLE from text, tolerant of currency signs, spaces and a decimal comma when configured."""
    e = f"trim({col})"
    # Non-breaking and thin spaces are common thousands separators in KZ/RU exports.
    e = f"regexp_replace({e}, '[\\s\u00a0\u202f₸$€₽]', '', 'g')"
    if thousands and thousands.strip():
        e = f"replace({e}, {sql_str(thousands)}, '')"
    if decimal == ",":
        e = f"replace(replace({e}, '.', ''), ',', '.')" if not thousands else f"replace({e}, ',', '.')"
    return f"TRY_CAST({e} AS DOUBLE)"


def nullif_blank(col: str) -> str:
    return f"nullif(trim({col}), '')"
