"""Money fixtures: one Spark session for the whole run (starting one takes ~25 s), and small worlds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "money"


@pytest.fixture(scope="session")
def spark():
    """The process-wide SparkSession (local[2], UI off), created once and reused by every Spark test."""
    if shutil.which("java") is None and not Path("/usr/lib/jvm").exists():
        pytest.skip("Java not found: Spark tests need Java 17 (scripts/setup.sh installs it)")
    from narcotrace.money.engine import spark_session

    return spark_session()


@pytest.fixture
def money_fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def small_world(workspace):
    """A workspace holding the hand-made transfers and accounts in tests/fixtures/money."""
    from narcotrace.money.ingest import ingest_accounts, ingest_paths

    ingest_accounts(workspace, [FIXTURES / "accounts_small.csv"])
    ingest_paths(workspace, [FIXTURES / "transfers_small.csv"])
    return workspace
