"""STIX 2.1 export: passes stix2-validator, channels as MISP-style groupings, wallets as MISP objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from report_world import A, B, B_DROP_PHONE, BTC, TRON  # noqa: E402


def _bundle(run_cli, ws_path, out, *args):
    r = run_cli("export", "--format", "stix", "--out", out, "--workspace", ws_path, *args)
    assert r.exit_code == 0, r.stderr + r.stdout
    text = Path(out).read_text(encoding="utf-8")
    result = validate_string(text, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for o in result.object_results for e in o.errors]
    stix2.parse(text, allow_custom=True)
    return json.loads(text)


def test_bundle_validates_and_carries_channels_indicators_and_wallets(run_cli, ws_path, tmp_path):
    bundle = _bundle(run_cli, ws_path, tmp_path / "b.json", "--proposed")
    objs = {o["id"]: o for o in bundle["objects"]}
    by = {}
    for o in bundle["objects"]:
        by.setdefault(o["type"], []).append(o)
    groupings = {g["name"]: g for g in by["grouping"]}
    snow = next(g for n, g in groupings.items() if A in n)
    assert 'misp:tool="MISP-STIX-Converter"' in snow["labels"]  # MISP imports it as its own event format
    assert all(ref in objs for g in by["grouping"] for ref in g["object_refs"])
    patterns = {o["pattern"] for o in by["indicator"]}
    assert "[domain-name:value = 'snowfox.kz']" in patterns
    assert ("[user-account:account_type = 'telegram' AND user-account:account_login = 'snowfox_bot']" in patterns)
    # wallets as MISP exports them: btc-wallet for Bitcoin, coin-address (+ symbol) for other chains
    wallets = {o["x_misp_name"]: o for o in by["x-misp-object"]}
    btc = wallets["btc-wallet"]["x_misp_attributes"]
    assert {"type": "btc", "object_relation": "wallet-address", "value": BTC, "to_ids": True} in btc
    coin = {a["object_relation"]: a["value"] for a in wallets["coin-address"]["x_misp_attributes"]}
    assert coin == {"address-crypto": TRON, "symbol": "TRX"}
    assert all('misp:meta-category="financial"' in w["labels"] for w in wallets.values())
    phones = [o for o in by["x-misp-attribute"] if o["x_misp_type"] == "phone-number"]
    assert [p["x_misp_value"] for p in phones] == [B_DROP_PHONE]
    actors = {o["id"]: o for o in by["threat-actor"]}
    indicates = [r for r in by["relationship"] if r["relationship_type"] == "indicates"]
    assert indicates and all(r["source_ref"].startswith("indicator--") and r["target_ref"] in actors for r in indicates)
    assert {a["name"] for a in actors.values()} == {"Snow Fox <b>", "Darkroom"}


def test_default_bundle_has_only_approved_channels_and_ids_are_stable(run_cli, ws_path, tmp_path):
    one = _bundle(run_cli, ws_path, tmp_path / "1.json")
    two = _bundle(run_cli, ws_path, tmp_path / "2.json")
    assert one["id"] == two["id"] and [o["id"] for o in one["objects"]] == [o["id"] for o in two["objects"]]
    names = [g["name"] for g in one["objects"] if g["type"] == "grouping"]
    assert len(names) == 1 and A in names[0] and not any(B in n for n in names)
    assert all('narcotrace:status="proposed"' not in o.get("labels", []) for o in one["objects"])


def test_channel_option(run_cli, ws_path, tmp_path):
    b = _bundle(run_cli, ws_path, tmp_path / "b.json", "--proposed", "--channel", B)
    names = [g["name"] for g in b["objects"] if g["type"] == "grouping"]
    assert names == ["Drug channel Darkroom (ch-bbbbbbbbbbbb)"]
    assert not any(o["type"] == "indicator" and "snowfox" in o["pattern"] for o in b["objects"])
