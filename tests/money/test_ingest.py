"""Ingest as a whole: canonical Parquet/CSV from the simulator, accounts and identifiers, the CLI."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from narcotrace.money.fx import load_rates
from narcotrace.money.ingest import ingest_accounts, ingest_paths


def test_canonical_parquet_with_typed_columns(workspace, tmp_path):
    df = pd.DataFrame({
        "transfer_id": ["p1", "p2", "p3"],
        "timestamp": pd.to_datetime(["2025-03-01 10:00", "2025-03-01 11:00", "2025-03-01 12:00"]),
        "from_account": ["A", "B", "C"], "to_account": ["B", "C", "C"],
        "from_bank": ["kaspi", "halyk", None], "to_bank": ["halyk", None, None],
        "amount": [1000.0, 2.5, 7.0], "currency": ["KZT", "USDT", "KZT"],
        "amount_base": [1.0, 1.0, 1.0],  # ignored: recomputed from the rates table
        "channel": ["card_p2p", "crypto_usdt", "card_p2p"], "description": [None, "", "x"],
        "is_laundering": [False, True, False],
    })
    path = tmp_path / "transfers.parquet"
    df.to_parquet(path)
    report = ingest_paths(workspace, [path])
    assert (report.read, report.stored, report.quarantined) == (3, 2, 1)
    assert report.reasons == {"self-transfer": 1}
    got = workspace.con.execute("SELECT transfer_id, timestamp, amount_base, description, source_row "
                                "FROM transfers ORDER BY 1").fetchall()
    assert got == [("p1", datetime(2025, 3, 1, 10), 1000.0, None, 1), ("p2", datetime(2025, 3, 1, 11), 2.5 * load_rates().rates["USDT"], None, 2)]
    assert workspace.con.execute("SELECT transfer_id, label FROM transfer_labels ORDER BY 1").fetchall() == [
        ("p1", 0), ("p2", 1)]
    # accounts named in transfers are derived, with their bank
    assert workspace.con.execute("SELECT account_id, bank, source FROM accounts ORDER BY 1").fetchall() == [
        ("A", "kaspi", "transfers"), ("B", "halyk", "transfers"), ("C", None, "transfers")]


def test_simulator_accounts_parquet_loads_accounts_and_identifiers(workspace, tmp_path):
    acc = pd.DataFrame({
        "account_id": ["acc-1", "acc-2", "w-1"], "kind": ["bank", "bank", "wallet"],
        "bank": ["kaspi", "halyk", "tron"], "country": ["KZ", "KZ", None],
        "card": ["4400430000000001", None, None], "phone": ["+77010000001", "8 (701) 000-00-02", None],
        "iban": [None, "kz86 601s 0000 0000 0001", None],
        "address": [None, None, "TXYZabcdefghijkmnopqrstuvwxyz12345"],
    })
    path = tmp_path / "accounts.parquet"
    acc.to_parquet(path)
    report = ingest_paths(workspace, [path])
    assert report.files[0].kind == "accounts" and report.stored == 3
    ids = workspace.con.execute("SELECT identifier, account_id, kind FROM account_identifiers ORDER BY 1").fetchall()
    assert ids == [
        ("card:4400430000000001", "acc-1", "card"),
        ("iban:KZ86601S000000000001", "acc-2", "iban"),
        ("phone:+77010000001", "acc-1", "phone"),
        ("phone:+77010000002", "acc-2", "phone"),
        ("tron:TXYZabcdefghijkmnopqrstuvwxyz12345", "w-1", "tron"),
    ]


def test_registry_file_fills_in_derived_accounts(small_world):
    # small_world loads accounts first, then transfers: D1 keeps its registry facts, B1 is derived
    got = dict((r[0], r[1:]) for r in small_world.con.execute(
        "SELECT account_id, kind, bank, holder_name FROM accounts").fetchall())
    assert got["D1"] == ("bank", "kaspi", "Drop One (synthetic)")
    assert got["B1"] == (None, "kaspi", None)
    ids = {r[0] for r in small_world.con.execute("SELECT identifier FROM account_identifiers").fetchall()}
    assert {"card:4400430000000001", "phone:+77010000001", "phone:+77010000002",
            "iban:TR330006100519786457841326"} <= ids


def test_registry_after_transfers_updates_accounts(workspace, money_fixtures):
    ingest_paths(workspace, [money_fixtures / "transfers_small.csv"])
    assert workspace.con.execute("SELECT kind FROM accounts WHERE account_id = 'X1'").fetchone() == (None,)
    report = ingest_accounts(workspace, [money_fixtures / "accounts_small.csv"])
    assert report.stored == 4
    assert workspace.con.execute("SELECT kind, bank FROM accounts WHERE account_id = 'X1'").fetchone() == (
        "exchanger", "bitkz")


def test_registry_rows_without_id_or_repeated_are_quarantined(workspace, tmp_path):
    p = tmp_path / "registry.csv"
    p.write_text("account_id,bank,holder,card\nR1,kaspi,A,4400430000000009\n,kaspi,B,\nR1,halyk,C,\n")
    report = ingest_accounts(workspace, [p])
    f = report.files[0]
    assert (f.read, f.stored, f.quarantined) == (3, 1, 2)
    assert dict(workspace.con.execute("SELECT source_row, reason FROM quarantine").fetchall()) == {
        2: "missing account id", 3: "duplicate account id (first at row 1)"}


def test_cli_ingest_prints_the_accounting(run_cli, tmp_path, money_fixtures):
    ws = tmp_path / "ws"
    res = run_cli("ingest", money_fixtures / "bad" / "transfers_bad.csv", "--workspace", ws)
    assert res.exit_code == 0, res.stderr
    assert "read 12 = stored 2 + quarantined 9 + duplicates 1" in res.stdout
    assert "transfers_bad.csv, row 2: zero or negative amount" in res.stdout
    res = run_cli("ingest", "accounts", money_fixtures / "accounts_small.csv", "--workspace", ws)
    assert res.exit_code == 0, res.stderr
    assert "read 4 = stored 4" in res.stdout
    res = run_cli("ingest", money_fixtures / "mapped" / "signed_statement.csv", "--format", "mapped",
                  "--mapping", money_fixtures / "mapped" / "signed_statement_mapping.yaml", "--workspace", ws)
    assert res.exit_code == 0 and "read 3 = stored 2 + quarantined 1" in res.stdout


def test_cli_errors_are_one_line(run_cli, tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("a,b\n1,2\n")
    res = run_cli("ingest", p, "--workspace", tmp_path / "ws")
    assert res.exit_code == 1
    assert "other.csv" in res.stderr and "--mapping" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("ingest", p, "--format", "mapped", "--workspace", tmp_path / "ws")
    assert res.exit_code == 1 and "--mapping" in res.stderr


def test_typed_card_and_phone_become_identifiers_of_the_receiver(workspace, tmp_path):
    df = pd.DataFrame({
        "transfer_id": ["c1", "c2", "c3"],
        "timestamp": pd.to_datetime(["2025-03-01 10:00"] * 3),
        "from_account": ["A", "A", "A"], "to_account": ["B", "C", "A"],
        "amount": [1000.0, 2000.0, 5.0], "currency": ["KZT"] * 3,
        "to_card": ["4400430000000001", None, "4400430000000099"],
        "to_phone": [None, "8 701 000 00 02", None],
    })
    path = tmp_path / "transfers.parquet"
    df.to_parquet(path)
    ingest_paths(workspace, [path])
    ids = workspace.con.execute("SELECT identifier, account_id, kind, source FROM account_identifiers "
                                "ORDER BY 1").fetchall()
    # the self-transfer c3 is quarantined, so its card names nobody
    assert ids == [("card:4400430000000001", "B", "card", "transfers"),
                   ("phone:+77010000002", "C", "phone", "transfers")]


def test_cli_shipped_mapping_by_name_and_missing_mapping(run_cli, tmp_path, money_fixtures):
    ws = tmp_path / "ws"
    res = run_cli("ingest", money_fixtures / "mapped" / "kaspi_statement.csv", "--mapping", "kaspi_statement.yaml",
                  "--workspace", ws)
    assert res.exit_code == 0, res.stderr
    assert "read 4 = stored 3 + quarantined 1" in res.stdout
    res = run_cli("ingest", money_fixtures / "mapped" / "kaspi_statement.csv", "--mapping", tmp_path / "nope.yaml",
                  "--workspace", ws)
    assert res.exit_code == 1 and "nope.yaml" in res.stderr
