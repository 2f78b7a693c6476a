"""Each transfers format reads into the canonical table: real public samples and synthetic fixtures."""

from __future__ import annotations

from datetime import datetime

import pytest

from narcotrace.money.fx import load_rates
from narcotrace.money.ingest import ingest_paths
from narcotrace.money.readers import detect


def rows(ws, sql):
    return ws.con.execute(sql).fetchall()


def test_every_file_accounts_for_every_row(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures])
    for f in report.files:
        assert f.balanced, f
    assert report.read == report.stored + report.quarantined + report.duplicates
    assert workspace.count("transfers") == sum(f.stored for f in report.files if f.kind == "transfers")
    assert workspace.count("accounts") >= sum(f.stored for f in report.files if f.kind == "accounts")


# ---- IBM AML -----------------------------------------------------------------------------------------
def test_ibm_public_sample(workspace, shared_formats):
    path = shared_formats / "ibm_aml" / "HI-Small_Trans__atalayero_fixture_first166rows.csv"
    assert detect(workspace.con, path)[0] == "ibm"
    report = ingest_paths(workspace, [path])
    assert report.read == 166
    # rows paying the same account (all the Reinvestment rows, and a few others) are quarantined by rule
    cells = [line.split(",") for line in path.read_text().splitlines()[1:]]
    selfs = sum(1 for c in cells if c[2] == c[4])
    assert selfs >= sum(1 for c in cells if c[9] == "Reinvestment") > 0
    assert report.reasons == {"self-transfer": selfs}
    assert report.stored == 166 - selfs
    # the 3 laundering rows keep their label for training
    assert rows(workspace, "SELECT count(*) FROM transfer_labels WHERE label = 1 AND source = 'ibm_aml'") == [(3,)]
    # bank ids stay text: zero padding kept
    assert rows(workspace, "SELECT count(*) > 0 FROM transfers WHERE from_bank = '014433'") == [(True,)]
    assert rows(workspace, "SELECT count(*) FROM transfers WHERE from_bank = '14433'") == [(0,)]
    btc = rows(workspace, "SELECT currency, channel FROM transfers WHERE currency = 'BTC' LIMIT 1")
    assert btc == [("BTC", "crypto_btc")] or btc == []


def test_ibm_fields_and_cross_currency(workspace, money_fixtures):
    ingest_paths(workspace, [money_fixtures / "ibm_small.csv"], fmt="ibm")
    got = rows(workspace, """SELECT timestamp, from_account, to_account, from_bank, to_bank, amount, currency,
                                    channel, description FROM transfers ORDER BY source_row""")
    assert got[0] == (datetime(2022, 9, 1, 0, 20), "8000AAAA0", "8000BBBB0", "010", "0011", 100.0, "USD",
                      "ach", None)
    # received 2500 EUR, paid 2650 USD: the paid leg is the amount, the received one is noted
    assert got[1][5:9] == (2650.0, "USD", "wire", "received 2500.00 Euro")
    assert got[2][6:8] == ("BTC", "crypto_btc")
    assert rows(workspace, "SELECT count(*) FROM transfer_labels WHERE label = 1") == [(2,)]


# ---- AMLSim --------------------------------------------------------------------------------------------
def test_amlsim_folder_with_accounts_and_sar_flags(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "amlsim"])
    kinds = {f.path.rsplit("/", 1)[-1]: (f.format, f.kind) for f in report.files}
    assert kinds == {"accounts.csv": ("amlsim", "accounts"), "transactions.csv": ("amlsim", "transfers")}
    assert rows(workspace, "SELECT account_id, bank, country, holder_name, currency FROM accounts "
                           "WHERE account_id = '3'") == [("3", "bank_b", "US", "C_3", "USD")]
    assert rows(workspace, "SELECT transfer_id, label, typology FROM transfer_labels ORDER BY 1") == [
        ("1", 0, None), ("2", 1, "amlsim alert 7"), ("3", 1, "amlsim alert 7")]
    assert rows(workspace, "SELECT timestamp, currency FROM transfers WHERE transfer_id = '2'") == [
        (datetime(2017, 1, 2), "USD")]
    assert report.reasons == {"zero or negative amount": 1}
    # account 4 appears only in a quarantined transfer: not derived
    assert rows(workspace, "SELECT count(*) FROM accounts WHERE account_id = '4'") == [(0,)]


# ---- ISO 20022 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", ["pacs008", "camt053"])
def test_every_public_iso20022_sample(workspace, shared_formats, folder):
    files = sorted((shared_formats / folder).glob("*.xml"))
    assert files
    for path in files:
        assert detect(workspace.con, path)[0] == folder, path
    report = ingest_paths(workspace, files)
    for f in report.files:
        assert f.read >= 1 and f.balanced, f
        assert not any(r.startswith("malformed") for r in f.reasons), f
    assert report.stored >= len(files) // 2


def test_pacs008_public_sample_fields(workspace, shared_formats):
    ingest_paths(workspace, [shared_formats / "pacs008" / "fedwire__CustomerCreditTransfer_Scenario1_Step1.xml"])
    assert rows(workspace, """SELECT transfer_id, timestamp, from_account, to_account, from_bank, amount,
                                     currency FROM transfers""") == [
        ("8a562c67-ca16-48ba-b074-65581be6f011", datetime(2025, 3, 10, 13, 0), "5647772655", "567876543",
         "011104238", 510000.74, "USD")]


def test_pacs008_batch(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "pacs008_batch.xml"])
    assert (report.read, report.stored, report.quarantined) == (3, 2, 1)
    assert report.reasons == {"unknown currency": 1}
    got = rows(workspace, """SELECT transfer_id, timestamp, from_account, to_account, from_bank, to_bank,
                                    amount, currency, description FROM transfers ORDER BY source_row""")
    assert got[0] == ("NT-TEST-0001/TX-1", datetime(2025, 3, 5, 4, 30), "KZ86722S000000000001",
                      "TR330006100519786457841326", "CASPKZKA", "TGBATRIS", 150000.0, "KZT", "invoice 1")
    # UETR wins as id; a creditor without an account is known by name; BIC (older tag) and clearing ids
    assert got[1][:6] == ("5d3f0e4a-1111-4c2b-9a11-000000000002", datetime(2025, 3, 5, 4, 30), "ACC-0002",
                          "name:No Account Given", "011104238", "HSBKKZKX")
    # accounts derived from IBANs get their country and an iban: identifier
    assert rows(workspace, "SELECT country FROM accounts WHERE account_id = 'TR330006100519786457841326'") == [("TR",)]
    assert rows(workspace, "SELECT account_id FROM account_identifiers WHERE identifier = "
                           "'iban:KZ86722S000000000001'") == [("KZ86722S000000000001",)]


def test_camt053_direction_from_credit_debit(workspace, money_fixtures):
    ingest_paths(workspace, [money_fixtures / "camt053_statement.xml"])
    got = rows(workspace, """SELECT transfer_id, timestamp, from_account, to_account, from_bank, to_bank, amount
                             FROM transfers ORDER BY source_row""")
    me = "KZ86722S000000000009"
    assert got == [
        (f"{me}/E2E-A", datetime(2025, 3, 4, 20, 10), "KZ86601S000000000010", me, "HSBKKZKX", "CASPKZKA", 5000.0),
        (f"{me}/REF-2/1", datetime(2025, 3, 5), me, "4400430000000002", "CASPKZKA", None, 10000.0),
        (f"{me}/REF-2/2", datetime(2025, 3, 5), me, "name:Exchanger Desk", "CASPKZKA", None, 20000.0),
    ]


# ---- mapped CSV (KZ bank statement layouts) --------------------------------------------------------------
def test_kaspi_statement_mapping(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "mapped" / "kaspi_statement.csv"], fmt="mapped",
                          mapping="kaspi_statement.yaml")  # a shipped example, found by name
    assert (report.read, report.stored) == (4, 3)
    assert report.files[0].examples == ["kaspi_statement.csv, row 4: unparseable timestamp"]
    got = rows(workspace, "SELECT timestamp, from_account, amount, currency, description FROM transfers "
                          "ORDER BY source_row")
    # 01:22:10 in Almaty is 20:22:10 UTC the day before; "7 500,50" has a space and a decimal comma
    assert got[0] == (datetime(2025, 3, 4, 20, 22, 10), "KZ00722TEST0000000002", 5000.0, "KZT", "перевод")
    assert got[1][2] == 7500.5
    assert got[2][3] == "KZT"  # empty currency cell: the mapping's default


def test_halyk_statement_mapping_in_windows_1251(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "mapped" / "halyk_statement.csv"], fmt="mapped",
                          mapping=money_fixtures / "mapped" / "halyk_mapping_cp1251.yaml")
    assert report.stored == 2
    got = rows(workspace, "SELECT amount, currency, amount_base FROM transfers ORDER BY source_row")
    assert got == [(20000.0, "KZT", 20000.0), (100.0, "USD", 100 * load_rates().rates["USD"])]  # debit column used when credit empty


def test_signed_single_account_statement(workspace, money_fixtures):
    report = ingest_paths(workspace, [money_fixtures / "mapped" / "signed_statement.csv"],
                          mapping=money_fixtures / "mapped" / "signed_statement_mapping.yaml")
    assert (report.stored, report.quarantined) == (2, 1)
    got = rows(workspace, "SELECT from_account, to_account, amount FROM transfers ORDER BY source_row")
    me = "card:4400430000000001"
    assert got == [("Иван И.", me, 5000.0), (me, "Сергей С.", 4500.0)]


def test_mapping_errors_name_the_problem(workspace, money_fixtures, tmp_path):
    from narcotrace.errors import InputError, UserError

    bad = tmp_path / "m.yaml"
    bad.write_text("columns:\n  timestamp: Date\n  from_account: Payer\n  amount: Sum\n")
    with pytest.raises(UserError, match="to_account"):
        ingest_paths(workspace, [money_fixtures / "mapped" / "kaspi_statement.csv"], fmt="mapped", mapping=bad)
    bad.write_text("columns:\n  timestamp: Date\n  from_account: Payer\n  to_account: Payee\n  amount: Sum\n"
                   "currency_default: KZT\n")
    with pytest.raises(InputError, match="column 'Date'"):
        ingest_paths(workspace, [money_fixtures / "transfers_small.csv"], fmt="mapped", mapping=bad)


def test_unknown_layout_asks_for_a_mapping(workspace, tmp_path):
    from narcotrace.errors import InputError

    p = tmp_path / "other.csv"
    p.write_text("when,who,whom,how much\n2025-01-01,a,b,5\n")
    with pytest.raises(InputError, match="--format mapped --mapping"):
        ingest_paths(workspace, [p])


def test_ibm_patterns_name_the_typology_of_labelled_transfers(workspace, money_fixtures):
    # patterns listed first on purpose: ingest reads them after the transfers they refer to
    report = ingest_paths(workspace, [money_fixtures / "ibm_patterns.txt", money_fixtures / "ibm_small.csv"])
    labels = report.files[-1]
    assert (labels.kind, labels.read, labels.stored, labels.quarantined) == ("labels", 4, 2, 2)
    assert labels.reasons == {"pattern row matches no stored transfer": 1, "malformed row: expected 11 columns": 1}
    got = workspace.con.execute("""SELECT t.source_row, l.typology FROM transfer_labels l
                                   JOIN transfers t USING (transfer_id) WHERE l.typology IS NOT NULL
                                   ORDER BY 1""").fetchall()
    assert got == [(2, "fan-in: Max 2-degree Fan-In"), (4, "fan-in: Max 2-degree Fan-In")]


def test_ibm_public_patterns_sample_is_accounted(workspace, shared_formats):
    report = ingest_paths(workspace, [shared_formats / "ibm_aml" / "HI-Small_Patterns__atalayero_fixture_8blocks.txt"])
    f = report.files[0]
    # 74 transactions in 8 blocks; their transfers are not in this workspace, so none can be labelled
    assert (f.kind, f.read, f.stored, f.quarantined) == ("labels", 74, 0, 74)
