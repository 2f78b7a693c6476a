import pytest

from narcotrace import tables
from narcotrace.errors import UserError
from narcotrace.workspace import Workspace


def test_open_creates_tables_and_evidence(tmp_path):
    with Workspace.open(tmp_path / "ws") as ws:
        names = {n for n, _ in ws.table_counts()}
        assert set(tables.TABLES) <= names
        assert (tmp_path / "ws" / "evidence").is_dir()
        assert ws.schema_version() == tables.SCHEMA_VERSION


def test_reopen_keeps_data_and_audit(tmp_path):
    with Workspace.open(tmp_path / "ws") as ws:
        ws.audit("export", "x.csv", {"rows": 3}, actor="alice")
    with Workspace.open(tmp_path / "ws") as ws:
        row = ws.con.execute("SELECT actor, action, target FROM audit_log").fetchall()
        assert row == [("alice", "export", "x.csv")]


def test_migration_runs_from_older_version(tmp_path, monkeypatch):
    with Workspace.open(tmp_path / "ws") as ws:
        pass
    monkeypatch.setattr(tables, "SCHEMA_VERSION", tables.SCHEMA_VERSION + 1)
    monkeypatch.setitem(tables.MIGRATIONS, tables.SCHEMA_VERSION,
                        ["ALTER TABLE posts ADD COLUMN IF NOT EXISTS extra VARCHAR"])
    with Workspace.open(tmp_path / "ws") as ws:
        cols = [r[0] for r in ws.con.execute("DESCRIBE posts").fetchall()]
        assert "extra" in cols
        assert ws.schema_version() == tables.SCHEMA_VERSION


def test_quarantine_counts(workspace):
    n = workspace.quarantine("transfers", [("f.csv", 3, "negative amount", "a,b,-1")])
    assert n == 1 and workspace.count("quarantine") == 1


def test_duckdb_memory_limit_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NARCOTRACE_MEMORY_LIMIT", "300MiB")
    with Workspace.open(tmp_path / "ws") as ws:
        limit, temp = ws.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert limit.replace(" ", "") in ("300.0MiB", "314.5MB", "300MiB")
    assert temp.endswith("ws/tmp")  # spills go inside the workspace, not the working directory


def test_bad_memory_limit_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NARCOTRACE_MEMORY_LIMIT", "lots")
    with pytest.raises(UserError, match="NARCOTRACE_MEMORY_LIMIT"):
        Workspace.open(tmp_path / "ws")


def test_transaction_rolls_back_and_unregisters_its_frames(tmp_path):
    import pyarrow as pa

    with Workspace.open(tmp_path / "ws") as ws:
        frame = pa.table({"k": ["a", "b"]})
        with ws.transaction(_t=frame) as con:
            con.execute("CREATE TABLE kept AS SELECT * FROM _t")
        assert ws.count("kept") == 2
        with pytest.raises(RuntimeError):
            with ws.transaction(_t=frame) as con:
                con.execute("INSERT INTO kept SELECT * FROM _t")
                raise RuntimeError("half-way")
        assert ws.count("kept") == 2  # nothing of the failed block stayed
        with pytest.raises(Exception, match="_t"):
            ws.con.execute("SELECT * FROM _t")  # the frame is not left registered
