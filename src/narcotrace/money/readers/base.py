"""What every transfers reader hands to ingest: one staged relation in a fixed shape, as SQL or Arrow batches.

Tabular formats (canonical CSV/Parquet, IBM AML, AMLSim, mapped CSV) are turned into a DuckDB SELECT so
millions of rows are read, typed and checked set-based; XML formats stream pyarrow batches. Either way the
rows reach ingest in the STAGE shape below, and ingest alone decides what is stored or quarantined, so every
format obeys the same rules.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

# Columns every reader produces (in this order). `*_raw` keep the input text so a row that fails to parse
# is quarantined as it was; `reject` is a reason the reader itself found (malformed row or XML element).
STAGE_SCHEMA = pa.schema([
    ("source_row", pa.int64()),
    ("transfer_id", pa.string()),
    ("timestamp", pa.timestamp("us")),
    ("timestamp_raw", pa.string()),
    ("from_account", pa.string()),
    ("to_account", pa.string()),
    ("from_bank", pa.string()),
    ("to_bank", pa.string()),
    ("amount", pa.float64()),
    ("amount_raw", pa.string()),
    ("currency", pa.string()),
    ("channel", pa.string()),
    ("description", pa.string()),
    ("label", pa.int32()),
    ("typology", pa.string()),
    ("raw", pa.string()),
    ("reject", pa.string()),
])
STAGE_COLUMNS = [f.name for f in STAGE_SCHEMA]


def sql_str(value: str | Path) -> str:
    """A SQL string literal (paths and names go into read_csv/read_parquet calls)."""
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Staged:
    """A reader's output for one file: `sql` (a SELECT in STAGE shape) or `batches` (Arrow, STAGE_SCHEMA).

    `rejected_sql` optionally selects (source_row, reason, raw) of rows the file parser itself dropped
    (DuckDB's CSV reject table), so they are quarantined too.
    """

    sql: str | None = None
    batches: Iterator[pa.RecordBatch] | None = None
    rejected_sql: str | None = None
    labels_source: str | None = None  # set when the format carries laundering labels


class TransferReader(ABC):
    """A reader of one transfers format."""

    name: str = ""
    kind: str = "transfers"  # transfers | accounts

    @abstractmethod
    def stage(self, con: Any, path: Path) -> Staged:
        """Turn the file into staged rows (SQL over `con` or Arrow batches)."""


class BatchBuilder:
    """Collects row dicts into STAGE_SCHEMA record batches of a bounded size (streaming readers)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> pa.RecordBatch | None:
        self.rows.append(row)
        if len(self.rows) >= self.size:
            return self.flush()
        return None

    def flush(self) -> pa.RecordBatch | None:
        if not self.rows:
            return None
        cols = {name: [r.get(name) for r in self.rows] for name in STAGE_COLUMNS}
        self.rows = []
        return pa.RecordBatch.from_pydict(cols, schema=STAGE_SCHEMA)
