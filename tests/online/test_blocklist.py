"""Blocklists: what is selected (approved sale posts; proposed when asked; never rejected), and each format."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from datetime import datetime

import pytest

from narcotrace.online.blocklist import never_block, select_entries, write_blocklist
from narcotrace.online.review import decide

ONION = "a" * 52 + "bcdd.onion"


def named_checkzone(zone: str, path) -> subprocess.CompletedProcess:
    tool = shutil.which("named-checkzone")
    if tool is None:
        message = "named-checkzone not installed (Debian bind9-utils; see scripts/setup.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run([tool, zone, str(path)], capture_output=True, text=True)


def add_post(ws, post_id, label, score, indicators, *, url=None, text="post text"):
    ws.con.execute(
        "INSERT INTO posts (post_id, source_format, source, source_row, captured_at, sha256, url, text, score, "
        "label, categories, model_version, scanned_at) VALUES (?, 'jsonl', 'in.jsonl', 1, ?, ?, ?, ?, ?, ?, "
        "['cathinones'], 'test', ?)",
        [post_id, datetime(2026, 10, 1, 12, 0), f"sha-{post_id}", url, text, score, label, datetime(2026, 10, 2)])
    for kind, value, canonical in indicators:
        ws.con.execute("INSERT INTO indicators (post_id, kind, value, canonical_id, extractor_version) "
                       "VALUES (?, ?, ?, ?, 'test')", [post_id, kind, value, canonical])


@pytest.fixture
def shops(workspace):
    ws = workspace
    add_post(ws, "sale1", "sale", 0.95, [
        ("domain", "shop-one.kz", "domain:shop-one.kz"), ("url", "https://www.shop-one.kz/menu", None),
        ("telegram", "shop_one", "telegram:shop_one"), ("url", "https://t.me/shop_one", None),
        ("domain", "t.me", "domain:t.me"), ("phone", "+77000000001", "phone:+77000000001")],
        url="https://t.me/shop_one/15")
    add_post(ws, "sale2", "sale", 0.90, [("domain", "shop-two.kz", "domain:shop-two.kz"),
                                         ("onion", ONION, f"onion:{ONION}")])
    add_post(ws, "low", "sale", 0.30, [("domain", "low-score.kz", "domain:low-score.kz")])
    add_post(ws, "rejected", "sale", 0.97, [("domain", "rejected-shop.kz", "domain:rejected-shop.kz"),
                                            ("telegram", "not_a_shop", "telegram:not_a_shop")])
    add_post(ws, "hr", "recruitment", 0.92, [("telegram", "hr_bot", "telegram:hr_bot")])
    add_post(ws, "idn", "sale", 0.88, [("domain", "магазин.kz", "domain:магазин.kz")])
    add_post(ws, "relabelled", "none", 0.40, [("domain", "relabelled.kz", "domain:relabelled.kz")])
    decide(ws, "approve", ["sale1", "idn"], reason="prices and a drop-off map", reviewer="alice")
    decide(ws, "approve", ["relabelled"], reason="model missed it", reviewer="bob", label="sale")
    decide(ws, "reject", ["rejected"], reason="a news story quoting a shop", reviewer="alice")
    decide(ws, "approve", ["hr"], reason="courier recruitment", reviewer="alice")
    return ws


def _values(entries, kind=None):
    return {e.value for e in entries if kind is None or e.kind == kind}


def test_approved_only_by_default(shops):
    entries = select_entries(shops)
    assert _values(entries, "domain") == {"shop-one.kz", "магазин.kz", "relabelled.kz"}
    assert _values(entries, "telegram") == {"shop_one"}  # hr_bot is recruitment, not sale
    assert _values(entries, "url") == {"https://www.shop-one.kz/menu", "https://t.me/shop_one"}
    assert all(e.status == "approved" for e in entries)
    one = next(e for e in entries if e.value == "shop-one.kz")
    assert one.post_ids == ["sale1"] and one.reviewers == ["alice"] and one.sha256s == ["sha-sale1"]
    assert one.source_urls == ["https://t.me/shop_one/15"]


def test_platform_domains_are_never_dns_blocked(shops):
    assert "t.me" in never_block()
    entries = select_entries(shops, proposed=True)
    assert "t.me" not in _values(entries, "domain")
    assert "https://t.me/shop_one" in _values(entries, "url")  # the URL itself is still evidence


def test_a_block_explorer_link_blocks_nothing(workspace):
    # a shop shows its wallet on tronscan: the wallet is evidence for the money side; tronscan is nobody's shop
    from narcotrace import codecs
    from narcotrace.online.indicators import extract

    wallet = codecs.b58check_encode(bytes([0x41]) + bytes(range(7, 27)))  # synthetic, checksum-valid
    text = f"Оплата USDT, проверка: https://tronscan.org/#/address/{wallet} shop-three.kz"
    inds = [(i.kind, i.value, i.canonical_id) for i in extract(text)]
    assert ("crypto", wallet, f"tron:{wallet}") in inds
    add_post(workspace, "ex", "sale", 0.95, inds)
    decide(workspace, "approve", ["ex"], reason="shop", reviewer="alice")
    entries = select_entries(workspace)
    assert _values(entries, "domain") == {"shop-three.kz"}
    assert not any("tronscan" in v for v in _values(entries))


def test_a_shop_on_a_hosting_platform_is_blocked_alone(workspace):
    add_post(workspace, "gh", "sale", 0.9, [("url", "https://kz-shop.github.io/menu", None),
                                            ("domain", "github.io", "domain:github.io")])
    decide(workspace, "approve", ["gh"], reason="shop page", reviewer="alice")
    assert _values(select_entries(workspace), "domain") == {"kz-shop.github.io"}


def test_a_domain_under_an_unknown_tld_is_kept(workspace):
    add_post(workspace, "t", "sale", 0.9, [("domain", "shop.test", "domain:shop.test")])
    decide(workspace, "approve", ["t"], reason="shop", reviewer="alice")
    assert _values(select_entries(workspace), "domain") == {"shop.test"}


def test_proposed_adds_unreviewed_above_threshold_and_never_rejected(shops):
    entries = select_entries(shops, proposed=True)
    status = {(e.kind, e.value): e.status for e in entries}
    assert status[("domain", "shop-two.kz")] == "proposed"
    assert status[("onion", ONION)] == "proposed"
    assert ("domain", "low-score.kz") not in status
    assert not {"rejected-shop.kz", "not_a_shop"} & _values(entries)
    assert status[("domain", "shop-one.kz")] == "approved"
    lower = select_entries(shops, proposed=True, min_score=0.2)
    assert "low-score.kz" in _values(lower)


def test_latest_decision_wins(shops):
    decide(shops, "reject", ["sale1"], reason="on second look: a parody", reviewer="carol")
    assert "shop-one.kz" not in _values(select_entries(shops, proposed=True))
    decide(shops, "approve", ["rejected"], reason="it is a shop after all", reviewer="carol")
    assert "rejected-shop.kz" in _values(select_entries(shops))


def test_rpz_zone_passes_named_checkzone(shops, tmp_path):
    out = tmp_path / "narcotrace.rpz"
    n = write_blocklist(shops, "rpz", out, proposed=True, zone="rpz.test.")
    text = out.read_text()
    assert n == 4  # shop-one.kz, магазин.kz, relabelled.kz, shop-two.kz (onion is not DNS)
    assert "shop-one.kz CNAME ." in text and "*.shop-one.kz CNAME ." in text
    assert "xn--80aairftm.kz CNAME ." in text  # IDN as punycode
    assert ".onion" not in text and "rejected-shop" not in text and "t.me CNAME" not in text
    assert text.index("PROPOSED") < text.index("shop-two.kz CNAME")
    check = named_checkzone("rpz.test", out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout


def test_hostile_post_ids_cannot_break_the_zone_or_hosts_file(workspace, tmp_path):
    hostile = "посты.jsonl:1\nevil.kz CNAME rpz-passthru.\r\n; $INCLUDE /etc/passwd"
    add_post(workspace, hostile, "sale", 0.99, [("domain", "shop-x.kz", "domain:shop-x.kz"),
                                               ("domain", "bad name.kz\nx", "domain:bad")])
    decide(workspace, "approve", [hostile], reason="shop", reviewer="alice")
    zone = tmp_path / "z.rpz"
    assert write_blocklist(workspace, "rpz", zone, proposed=False) == 1  # the malformed domain is left out
    records = [line for line in zone.read_text().splitlines() if line and not line.startswith(";")]
    assert [r for r in records if "CNAME" in r] == ["shop-x.kz CNAME .", "*.shop-x.kz CNAME ."]
    assert named_checkzone("rpz.narcotrace", zone).returncode == 0
    hosts = tmp_path / "hosts"
    write_blocklist(workspace, "hosts", hosts, proposed=False)
    assert [line for line in hosts.read_text().splitlines() if not line.startswith("#")] == [
        "0.0.0.0 shop-x.kz", "0.0.0.0 www.shop-x.kz"]


def test_hosts(shops, tmp_path):
    out = tmp_path / "hosts"
    write_blocklist(shops, "hosts", out, proposed=False)
    lines = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert "0.0.0.0 shop-one.kz" in lines and "0.0.0.0 www.shop-one.kz" in lines
    assert "0.0.0.0 xn--80aairftm.kz" in lines
    assert all(line.startswith("0.0.0.0 ") for line in lines)
    assert not any("shop-two" in line for line in lines)  # proposed, not asked for
    write_blocklist(shops, "hosts", out, proposed=True)
    text = out.read_text()
    assert "# PROPOSED; score 0.90" in text and "0.0.0.0 shop-two.kz" in text


def test_csv_carries_the_evidence(shops, tmp_path):
    out = tmp_path / "block.csv"
    write_blocklist(shops, "csv", out, proposed=True)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["kind", "value", "canonical_id", "status", "post_ids", "source_urls", "captured_at",
                             "sha256s", "score", "reviewer"]
    one = next(r for r in rows if r["value"] == "shop-one.kz")
    assert one == {"kind": "domain", "value": "shop-one.kz", "canonical_id": "domain:shop-one.kz",
                   "status": "approved", "post_ids": "sale1", "source_urls": "https://t.me/shop_one/15",
                   "captured_at": "2026-10-01T12:00:00Z", "sha256s": "sha-sale1", "score": "0.9500",
                   "reviewer": "alice"}
    two = next(r for r in rows if r["value"] == "shop-two.kz")
    assert two["status"] == "proposed" and two["reviewer"] == ""
    assert {r["kind"] for r in rows} == {"domain", "onion", "url", "telegram"}


def test_stix_bundle_passes_the_validator(shops, tmp_path):
    from stix2validator import ValidationOptions, validate_file

    out = tmp_path / "block.json"
    n = write_blocklist(shops, "stix", out, proposed=True)
    bundle = json.loads(out.read_text())
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert len(indicators) == n
    patterns = {o["pattern"] for o in indicators}
    assert "[domain-name:value = 'shop-one.kz']" in patterns
    assert f"[domain-name:value = '{ONION}']" in patterns
    assert "[url:value = 'https://www.shop-one.kz/menu']" in patterns
    assert ("[user-account:account_login = 'shop_one' AND user-account:account_type = 'telegram']"
            in patterns)
    proposed = next(o for o in indicators if "shop-two.kz" in o["pattern"])
    assert "proposed" in proposed["labels"] and proposed["confidence"] == 90
    approved = next(o for o in indicators if "'shop-one.kz'" in o["pattern"])
    assert "approved" in approved["labels"] and "sha-sale1" in approved["description"]
    result = validate_file(str(out), ValidationOptions(version="2.1", strict=True))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]
    # the same indicator keeps its id from one export to the next
    write_blocklist(shops, "stix", tmp_path / "again.json", proposed=True)
    again = json.loads((tmp_path / "again.json").read_text())
    assert {o["id"] for o in again["objects"]} == {o["id"] for o in bundle["objects"]}


def test_every_write_is_audited(shops, tmp_path):
    write_blocklist(shops, "csv", tmp_path / "a.csv", proposed=False)
    row = shops.con.execute("SELECT action, target, details FROM audit_log WHERE action = 'blocklist'").fetchone()
    assert row[0] == "blocklist" and row[1].endswith("a.csv")
    details = json.loads(row[2])
    assert details["format"] == "csv" and details["proposed_included"] is False and details["entries"] > 0


def test_cli(shops, tmp_path, run_cli):
    ws_path = shops.root
    shops.close()
    out = tmp_path / "zone.rpz"
    r = run_cli("blocklist", "--format", "rpz", "--out", out, "--workspace", ws_path)
    assert r.exit_code == 0, r.stderr
    assert "wrote 3 approved entries" in r.stdout
    assert "shop-two.kz" not in out.read_text()
    r = run_cli("blocklist", "--format", "rpz", "--out", out, "--proposed", "--workspace", ws_path)
    assert "wrote 4 approved and proposed entries" in r.stdout and "shop-two.kz" in out.read_text()
    r = run_cli("blocklist", "--format", "xml", "--out", out, "--workspace", ws_path)
    assert r.exit_code == 1 and "unknown blocklist format" in r.stderr
    r = run_cli("blocklist", "--format", "csv", "--out", tmp_path / "no" / "x.csv", "--workspace", ws_path)
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_per_channel_blocklist(shops, tmp_path, run_cli):
    from narcotrace.errors import UserError

    shops.con.execute("INSERT INTO channels (channel_id, name) VALUES ('ch-one', 'Shop One'), ('ch-two', 'Two')")
    shops.con.execute("INSERT INTO channel_members (channel_id, member_kind, member_id, role) VALUES "
                      "('ch-one', 'post', 'sale1', 'sale'), ('ch-two', 'post', 'sale2', 'sale')")
    one = select_entries(shops, channel="ch-one")
    assert _values(one, "domain") == {"shop-one.kz"}
    assert _values(select_entries(shops, proposed=True, channel="ch-two"), "domain") == {"shop-two.kz"}
    assert select_entries(shops, channel="ch-two") == []  # sale2 is not approved
    with pytest.raises(UserError, match="ch-nope"):
        select_entries(shops, channel="ch-nope")
    root = shops.root
    shops.close()
    out = tmp_path / "one.rpz"
    r = run_cli("blocklist", "--format", "rpz", "--channel", "ch-one", "--out", out, "--workspace", root)
    assert r.exit_code == 0, r.stderr
    assert "shop-one.kz" in out.read_text() and "relabelled.kz" not in out.read_text()
