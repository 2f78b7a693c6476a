"""The workspace: a folder with one embedded DuckDB database and the evidence files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from narcotrace import tables
from narcotrace.errors import UserError

DEFAULT_WORKSPACE = "narcotrace-data"
DB_NAME = "narcotrace.duckdb"


def default_path() -> Path:
    return Path(os.environ.get("NARCOTRACE_WORKSPACE", DEFAULT_WORKSPACE))


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for a workspace: $NARCOTRACE_MEMORY_LIMIT (e.g. '12GiB'), else half of RAM.

    DuckDB's own default is 80 % of RAM for its buffers alone; the Python side of a command (frames
    handed to the model, Arrow batches) comes on top, so the default leaves the other half for it.
    Past the limit DuckDB spills to the workspace's `tmp/` folder instead of growing.
    """
    env = os.environ.get("NARCOTRACE_MEMORY_LIMIT")
    if env:
        return env
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "8GiB"
    return f"{max(1, total // 2 // 2**20)}MiB"


def utcnow() -> datetime:
    """Naive UTC now: DuckDB TIMESTAMP columns hold UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class Workspace:
    """A workspace folder: `narcotrace.duckdb` (all tables) and `evidence/` (raw captures, WARCs, exports).

    Open with `Workspace.open(path)`; tables are created or migrated to the current schema version.
    """

    def __init__(self, root: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.root = root
        self.con = con
        self._ibis = None

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True) -> Workspace:
        root = Path(path) if path is not None else default_path()
        db = root / DB_NAME
        if root.exists() and not root.is_dir():
            raise UserError(f"--workspace {root}: exists and is not a folder")
        if not db.exists() and not create:
            raise UserError(f"--workspace {root}: no workspace here (no {DB_NAME}); run a command that creates one")
        root.mkdir(parents=True, exist_ok=True)
        (root / "evidence").mkdir(exist_ok=True)
        try:
            con = duckdb.connect(str(db))
        except duckdb.IOException as e:  # locked by another process, unreadable
            raise UserError(f"--workspace {root}: cannot open {db}: {e}") from e
        try:
            con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")
        except duckdb.Error as e:
            con.close()
            raise UserError(f"NARCOTRACE_MEMORY_LIMIT={os.environ.get('NARCOTRACE_MEMORY_LIMIT')!r}: {e}") from e
        con.execute(f"SET temp_directory = '{(root / 'tmp').as_posix()}'")
        ws = cls(root, con)
        ws.migrate()
        return ws

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Create missing tables and run migrations from the stored schema version to the current one."""
        current = self.schema_version()
        if current > tables.SCHEMA_VERSION:
            raise UserError(
                f"workspace {self.root} has schema version {current}, newer than this narcotrace "
                f"({tables.SCHEMA_VERSION}); upgrade narcotrace"
            )
        if current and current < tables.SCHEMA_VERSION:
            for version in range(current + 1, tables.SCHEMA_VERSION + 1):
                for sql in tables.MIGRATIONS.get(version, []):
                    self.con.execute(sql)
        for table in tables.TABLES.values():
            self.con.execute(table.ddl())
        self.con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(tables.SCHEMA_VERSION)]
        )
        if not current:
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('created_at', ?)", [utcnow().isoformat()])

    # -- access ------------------------------------------------------------------------------
    def ibis(self) -> Any:
        """An Ibis DuckDB backend over this workspace's connection (analytics code uses this)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table_counts(self) -> list[tuple[str, int]]:
        names = [r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()]
        return [(n, self.con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names]

    def count(self, table: str) -> int:
        return int(self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    # -- audit and quarantine ------------------------------------------------------------------
    @contextmanager
    def transaction(self, **frames: Any) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing transaction; `frames` (Arrow tables, DataFrames) are visible to its SQL by
        name while it runs. Rolled back, and the error re-raised, if the block fails."""
        con = self.con
        for name, frame in frames.items():
            con.register(name, frame)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            for name in frames:
                con.unregister(name)

    def audit(self, action: str, target: str = "", details: dict[str, Any] | None = None,
              actor: str | None = None) -> None:
        """Record an action (decision, export, ingest) in the audit log."""
        self.con.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
            [utcnow(), actor or current_user(), action, target, json.dumps(details or {}, default=str)],
        )

    def quarantine(self, kind: str, rows: Iterable[tuple[str, int, str, str]]) -> int:
        """Store rejected input rows: (source, source_row, reason, raw). Returns how many."""
        now = utcnow()
        batch = [(kind, s, r, reason, (raw or "")[:2000], now) for s, r, reason, raw in rows]
        if batch:
            self.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", batch)
        return len(batch)

    def already_ingested(self, file_sha256: str, kind: str) -> bool:
        row = self.con.execute(
            "SELECT 1 FROM ingest_log WHERE file_sha256 = ? AND kind = ?", [file_sha256, kind]
        ).fetchone()
        return row is not None

    def log_ingest(self, file_sha256: str, path: str, fmt: str, kind: str, read: int, stored: int,
                   quarantined: int) -> None:
        self.con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [file_sha256, path, fmt, kind, read, stored, quarantined, utcnow()],
        )


def current_user() -> str:
    return os.environ.get("NARCOTRACE_USER") or os.environ.get("USER") or "analyst"
