"""Where money analytics run: DuckDB (the workspace itself, default) or Spark (local or a cluster).

Analytics code builds Ibis expressions on `engine.table(name)` and hands results to `engine.write(name,
expr)`, which stores them as a table of the workspace's DuckDB database whatever the engine; only this
module imports duckdb or pyspark. A Spark engine reads the workspace's tables as Parquet exported to a
temporary folder (once per table per engine) and writes results back through Parquet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from narcotrace.errors import UserError
from narcotrace.workspace import Workspace

ENGINES = ("duckdb", "spark")


class Engine(ABC):
    """An execution backend for Ibis expressions over the workspace's tables."""

    name: str = ""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    @property
    @abstractmethod
    def backend(self) -> Any:
        """The Ibis backend (for ibis.memtable-free helpers that need it)."""

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """A workspace table as an Ibis table on this engine."""

    @abstractmethod
    def write(self, name: str, expr: ir.Table) -> int:
        """Materialise `expr` as workspace table `name` (replacing it); returns its row count."""

    def execute(self, expr: ir.Expr) -> Any:
        """Run an expression and return pandas (DataFrame, Series or scalar)."""
        return self.backend.execute(expr)

    def to_pyarrow(self, expr: ir.Table) -> Any:
        return self.backend.to_pyarrow(expr)

    def close(self) -> None:
        """Release what the engine holds (the Spark session is kept for the process)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBEngine(Engine):
    """The workspace's own DuckDB connection through Ibis."""

    name = "duckdb"

    @property
    def backend(self) -> Any:
        return self.ws.ibis()

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)

    def write(self, name: str, expr: ir.Table) -> int:
        # create_table (not raw SQL) so in-memory tables (ibis.memtable) in the expression are registered.
        self.backend.create_table(name, expr, overwrite=True)
        return self.ws.count(name)


_SPARK: Any = None


def spark_session(master: str | None = None) -> Any:
    """One SparkSession per process, created on first use (~25 s) and reused.

    local[2] by default (NARCOTRACE_SPARK_MASTER to change); UI off; few shuffle partitions, since local
    data is small per partition; session time zone UTC so timestamps mean the same as in DuckDB.
    """
    global _SPARK
    if _SPARK is not None:
        return _SPARK
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - pyspark is a dependency
        raise UserError("--engine spark needs pyspark (pip install pyspark==4.0.5) and Java 17") from e
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    builder = (
        SparkSession.builder.master(master or os.environ.get("NARCOTRACE_SPARK_MASTER", "local[2]"))
        .appName("narcotrace")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("NARCOTRACE_SPARK_PARTITIONS", "4"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("NARCOTRACE_SPARK_MEMORY", "2g"))
        .config("spark.sql.ansi.enabled", "false")
    )
    try:
        _SPARK = builder.getOrCreate()
    except Exception as e:  # Java missing or misconfigured
        raise UserError(f"--engine spark: cannot start Spark ({str(e).splitlines()[0]}); "
                        "is Java 17 installed (scripts/setup.sh installs openjdk-17-jre-headless)?") from e
    _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


class SparkEngine(Engine):
    """PySpark through Ibis; workspace tables travel as Parquet files in a temporary folder."""

    name = "spark"

    def __init__(self, ws: Workspace, session: Any = None) -> None:
        super().__init__(ws)
        self.session = session or spark_session()
        self._backend = ibis.pyspark.connect(self.session)
        self.tmp = Path(tempfile.mkdtemp(prefix="narcotrace-spark-"))
        self._tables: dict[str, ir.Table] = {}

    @property
    def backend(self) -> Any:
        return self._backend

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            path = self.tmp / f"{name}.parquet"
            self.ws.con.execute(f"COPY \"{name}\" TO '{path}' (FORMAT parquet)")
            # Cached: the feature and typology queries read the same table many times over.
            self._tables[name] = self._backend.read_parquet(str(path), table_name=f"nt_{name}").cache()
        return self._tables[name]

    def write(self, name: str, expr: ir.Table) -> int:
        out = self.tmp / f"out_{name}"
        if out.exists():
            shutil.rmtree(out)
        self._backend.to_parquet_dir(expr, str(out))
        self.ws.con.execute(f"CREATE OR REPLACE TABLE \"{name}\" AS SELECT * FROM read_parquet('{out}/*.parquet')")
        self._release(name)  # a later table(name) must see the new content
        return self.ws.count(name)

    def _release(self, name: str) -> None:
        t = self._tables.pop(name, None)
        if t is None:
            return
        try:
            t.release()  # unpersist the cached DataFrame
            self.session.catalog.dropTempView(f"nt_{name}")
        except Exception:  # already released or view gone
            pass

    def close(self) -> None:
        for name in list(self._tables):
            self._release(name)
        shutil.rmtree(self.tmp, ignore_errors=True)


def open_engine(ws: Workspace, name: str = "duckdb") -> Engine:
    """`--engine duckdb|spark`."""
    if name == "duckdb":
        return DuckDBEngine(ws)
    if name == "spark":
        return SparkEngine(ws)
    raise UserError(f"--engine {name}: unknown; choose duckdb or spark")
