"""goAML STR: validates against the goAML 5.0.1 XSD (XSD 1.1), refuses to write invalid reports, is audited."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "money"))
from shapes import load_into, shapes_world  # noqa: E402

from narcotrace.errors import UserError  # noqa: E402
from narcotrace.export import goaml  # noqa: E402
from narcotrace.money import alerts as al  # noqa: E402
from narcotrace.money.analyze import analyze  # noqa: E402


@pytest.fixture
def xsd(shared_formats) -> Path:
    path = shared_formats / "goaml" / "goAMLSchema-5.0.1.xsd"
    if not path.is_file():
        pytest.skip("goAML XSD not in ../shared/formats/goaml")
    return path


@pytest.fixture
def confirmed(workspace, tmp_path):
    df, _ = shapes_world()
    load_into(workspace, df, tmp_path)
    analyze(workspace, rules_only=True)
    al.set_status(workspace, al.alert_id_for("drop1"), "confirmed", "payers match shop ads", by="alice")
    return workspace


def test_reference_example_validates_with_our_validator(xsd, shared_formats):
    xml = (shared_formats / "goaml" / "minimal-STR-example.xml").read_bytes()
    assert goaml.validate(xml, xsd) == []


def test_str_of_confirmed_alert_validates_and_names_its_transfers(confirmed, xsd, run_cli, tmp_path):
    out = tmp_path / "str.xml"
    res = run_cli("export", "--format", "goaml", "--schema", xsd, "--out", out, "--workspace", confirmed.root)
    assert res.exit_code == 0, res.stdout + res.stderr
    xml = out.read_bytes()
    assert goaml.validate(xml, xsd) == []
    root = ET.fromstring(xml)
    assert root.findtext("report_code") == "STR" and root.findtext("rentity_id") == "1"
    assert "PROPOSED" not in root.findtext("entity_reference")
    txs = root.findall("transaction")
    evidence = confirmed.con.execute(
        "SELECT evidence_transfer_ids FROM alerts WHERE account_id = 'drop1'").fetchone()[0]
    assert {t.findtext("transactionnumber") for t in txs} == set(evidence)
    incoming = [t for t in txs if t.findtext("t_to/to_account/account") == "drop1"]
    assert len(incoming) == 12
    assert incoming[0].findtext("t_to/to_account/swift") == "CASPKZKA"  # kaspi's BIC from banks.yaml
    assert "drop1" in root.findtext("reason")
    audit = confirmed.con.execute(
        "SELECT details FROM audit_log WHERE action = 'goaml_str' ORDER BY \"at\" DESC LIMIT 1").fetchone()[0]
    details = json.loads(audit)
    assert details["transactions"] == len(txs) and details["accounts"] == ["drop1"] and details["sha256"]


def test_proposed_report_says_so(confirmed, xsd, tmp_path):
    out = tmp_path / "str.xml"
    n = goaml.export(confirmed, out, proposed=True, channel=None, schema=xsd)
    root = ET.fromstring(out.read_bytes())
    assert n == len(root.findall("transaction")) > 14
    assert root.findtext("entity_reference").endswith("-PROPOSED")
    assert root.findtext("reason").startswith("PROPOSED")


def test_invalid_report_is_refused_and_nothing_written(confirmed, xsd, tmp_path):
    (confirmed.root / "goaml.yaml").write_text("transmode_code: ZZZ\n")
    out = tmp_path / "str.xml"
    with pytest.raises(UserError, match="does not validate.*transmode_code"):
        goaml.export(confirmed, out, proposed=False, channel=None, schema=xsd)
    assert not out.exists()


def test_another_fius_schema_is_used(confirmed, xsd, tmp_path):
    # an FIU whose currency list lacks KZT: the same report must be refused under its schema
    other = tmp_path / "other-fiu.xsd"
    other.write_text(xsd.read_text(encoding="utf-8").replace('<xs:enumeration value="KZT"', '<xs:enumeration value="KZX"'),
                     encoding="utf-8")
    with pytest.raises(UserError, match="currency_code_local"):
        goaml.export(confirmed, tmp_path / "s.xml", proposed=False, channel=None, schema=other)


def test_no_confirmed_alerts_is_a_clear_error(confirmed, xsd, tmp_path):
    al.set_status(confirmed, al.alert_id_for("drop1"), "in_review", "reopened", by="bob")
    with pytest.raises(UserError, match="no confirmed alerts.*--proposed"):
        goaml.export(confirmed, tmp_path / "s.xml", proposed=False, channel=None, schema=xsd)


def test_missing_schema_file_is_a_clear_error(confirmed, tmp_path):
    with pytest.raises(UserError, match="no such file"):
        goaml.export(confirmed, tmp_path / "s.xml", proposed=False, channel=None, schema=tmp_path / "nope.xsd")
