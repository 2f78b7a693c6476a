"""CSV cells that spreadsheets will not run as formulas (CSV/formula injection, OWASP).

Post ids, handles and descriptions come from hostile input; a cell starting with = + - @ (or a tab or
carriage return) is prefixed with an apostrophe, which spreadsheet programs show as plain text.
Numbers are left alone so negative amounts stay numbers.
"""

from __future__ import annotations

from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def row(values: list[Any]) -> list[Any]:
    return [cell(v) for v in values]
