"""`narcotrace simulate` on the command line: a world on success, one clear line on bad options."""

from __future__ import annotations


def test_simulate_writes_a_world(run_cli, tmp_path):
    r = run_cli("simulate", "--out", tmp_path / "w", "--seed", "3", "--people", "300", "--days", "3")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "w" / "transfers.parquet").is_file()
    assert "transfers" in r.stdout


def test_out_is_a_file(run_cli, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    r = run_cli("simulate", "--out", f, "--people", "300", "--days", "2")
    assert r.exit_code == 1
    assert "Traceback" not in r.stderr and "file.txt" in r.stderr and "--out" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_zero_people_is_a_usage_error(run_cli, tmp_path):
    r = run_cli("simulate", "--out", tmp_path / "w", "--people", "0")
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr and "--people" in r.stderr


def test_too_many_shops(run_cli, tmp_path):
    r = run_cli("simulate", "--out", tmp_path / "w", "--people", "300", "--days", "2", "--shops", "50")
    assert r.exit_code == 1 and "--shops" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_too_few_people_for_the_shops_and_days(run_cli, tmp_path):
    r = run_cli("simulate", "--out", tmp_path / "w", "--people", "50", "--days", "1500")
    assert r.exit_code == 1
    assert "--people 50" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
