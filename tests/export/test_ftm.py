"""FollowTheMoney export: every line parses and validates with followthemoney, references resolve, approval rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from followthemoney import model

from report_world import A, A_DROP, B, B_DROP, HOSTILE, TRON  # noqa: E402


def _export(run_cli, ws_path, out, *args):
    r = run_cli("export", "--format", "ftm", "--out", out, "--workspace", ws_path, *args)
    assert r.exit_code == 0, r.stderr + r.stdout
    return [json.loads(line) for line in Path(out).read_text(encoding="utf-8").splitlines()]


def _check_valid(rows):
    ids = {r["id"] for r in rows}
    assert len(ids) == len(rows), "ids are unique"
    for r in rows:
        proxy = model.get_proxy(r, cleaned=False)
        assert proxy.schema.validate(r) is None
        missing = [p for p in proxy.schema.required if not proxy.get(p)]
        assert not missing, f"{r['schema']} {r['id']} lacks required {missing}"
        for prop in proxy.iterprops():
            if prop.type.name == "entity":
                for ref in proxy.get(prop):
                    assert ref in ids, f"{r['schema']}.{prop.name} points to a missing entity {ref}"


def test_proposed_export_is_valid_ftm_with_every_kind(run_cli, ws_path, tmp_path):
    rows = _export(run_cli, ws_path, tmp_path / "all.jsonl", "--proposed")
    _check_valid(rows)
    by = {}
    for r in rows:
        by.setdefault(r["schema"], []).append(r)
    for schema in ("Organization", "Person", "BankAccount", "CryptoWallet", "Payment", "UserAccount", "Message",
                   "Ownership", "UnknownLink", "Note"):
        assert by.get(schema), f"no {schema}"
    shops = [o for o in by["Organization"] if "crime.traffick.drug" in o["properties"].get("topics", [])]
    assert {s["properties"]["name"][0] for s in shops} == {"Snow Fox <b>", "Darkroom"}
    snow = next(s for s in shops if s["properties"]["name"][0] == "Snow Fox <b>")
    assert "http://snowfox.kz" in snow["properties"]["website"][0]
    handles = {u["properties"]["username"][0]: u for u in by["UserAccount"]}
    assert handles["snowfox_kz"]["properties"]["owner"] == [snow["id"]]
    assert handles["snowfox_kz"]["properties"]["service"] == ["Telegram"]
    wallets = {w["properties"]["publicKey"][0]: w for w in by["CryptoWallet"]}
    assert wallets[TRON]["properties"]["currencySymbol"] == ["TRX"]
    accounts = {a["properties"]["accountNumber"][0]: a for a in by["BankAccount"]}
    assert A_DROP in accounts and B_DROP in accounts
    # hostile text is kept as data, unchanged
    bodies = [m["properties"]["bodyText"][0] for m in by["Message"]]
    assert any(HOSTILE in b for b in bodies)
    # payments of the channel go from the buyers' holders into the drop, with the drop's bank account
    into_drop = [p for p in by["Payment"] if accounts[A_DROP]["id"] in p["properties"].get("beneficiaryAccount", [])]
    assert len(into_drop) == 8
    assert all(p["properties"]["purpose"] == ["drug payment"] for p in into_drop)
    roles = {(u["properties"]["subject"][0], u["properties"]["role"][0]) for u in by["UnknownLink"]
             if u["properties"].get("role")}
    assert (snow["id"], "drop account") in roles and (snow["id"], "collector") in roles
    assert any("PROPOSED" in n for m in by["Message"] for n in m["properties"]["notes"])


def test_default_exports_only_what_a_person_approved(run_cli, ws_path, tmp_path):
    rows = _export(run_cli, ws_path, tmp_path / "approved.jsonl")
    _check_valid(rows)
    names = {r["properties"]["name"][0] for r in rows if r["schema"] == "Organization"
             and "crime.traffick.drug" in r["properties"].get("topics", [])}
    assert names == {"Snow Fox <b>"}  # channel B has no approved post
    messages = {r["properties"]["messageId"][0] for r in rows if r["schema"] == "Message"}
    assert messages == {"a0"}  # the approved post only; a rejected post is never exported
    assert all("PROPOSED" not in n for r in rows for n in r["properties"].get("notes", []))
    payers = [r for r in rows if r["schema"] == "Payment"]
    assert len(payers) == 8 + 4 * 3  # the approved channel's drug payments and forwards, with the buyers as payers


def test_channel_option_and_stable_ids(run_cli, ws_path, tmp_path):
    one = _export(run_cli, ws_path, tmp_path / "b1.jsonl", "--proposed", "--channel", B)
    two = _export(run_cli, ws_path, tmp_path / "b2.jsonl", "--proposed", "--channel", B)
    _check_valid(one)
    assert [r["id"] for r in one] == [r["id"] for r in two]
    messages = {r["properties"]["messageId"][0] for r in one if r["schema"] == "Message"}
    assert messages == {"b0", "b1", "b2"}
    assert not any(r["schema"] == "BankAccount" and r["properties"]["accountNumber"] == [A_DROP] for r in one)
    r = run_cli("export", "--format", "ftm", "--out", tmp_path / "x.jsonl", "--workspace", ws_path,
                "--channel", "ch-nope")
    assert r.exit_code == 1 and "--channel ch-nope" in r.stderr
    assert A in r.stderr  # names the known channels


def test_export_is_audited(run_cli, ws_path, tmp_path):
    _export(run_cli, ws_path, tmp_path / "a.jsonl", "--proposed")
    from narcotrace.workspace import Workspace

    with Workspace.open(ws_path, create=False) as ws:
        rows = ws.con.execute("SELECT details FROM audit_log WHERE action = 'export'").fetchall()
    assert rows and json.loads(rows[-1][0])["format"] == "ftm"


def test_unapproved_channel_without_proposed_exports_nothing_of_it(run_cli, ws_path, tmp_path):
    rows = _export(run_cli, ws_path, tmp_path / "b.jsonl", "--channel", B)
    assert not any(r["schema"] in ("Message", "Organization", "BankAccount") for r in rows)
