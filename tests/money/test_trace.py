"""Trace follows money in time order, attributes amounts proportionally or FIFO, and stops at endpoints."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from narcotrace.errors import UserError
from narcotrace.money import trace as tr
from shapes import T0, Builder, hours, load_into


@pytest.fixture
def route(workspace, tmp_path):
    b = Builder()
    for i in range(5):
        b.add(f"buyer{i}", "drop", 10000, T0 + hours(i))
    b.add("other", "drop", 50000, T0 - hours(5))       # money that was there before
    b.add("drop", "early", 1000, T0 - hours(1))         # left before the traced money arrived
    b.add("drop", "coll", 49000, T0 + hours(6))
    b.add("drop", "coll2", 49000, T0 + hours(7))
    b.add("coll", "exch", 40000, T0 + hours(8))
    b.add("coll", "atmdesk", 5000, T0 + hours(9), channel="atm")
    b.add("coll2", "abroad", 30000, T0 + hours(10))
    b.add("exch", "someone", 40000, T0 + hours(11))     # beyond an endpoint: not followed
    accounts = pd.DataFrame([{"account_id": "exch", "kind": "exchanger", "country": "KZ"},
                             {"account_id": "abroad", "kind": "bank", "country": "TR"}])
    load_into(workspace, b.frame(), tmp_path, accounts)
    return workspace


def test_forward_proportional_splits_and_stops_at_endpoints(route):
    r = tr.trace(route, "buyer0")
    assert r.start_amount == 10000
    edges = {e.transfer_id: e for e in r.edges}
    # 10,000 reached drop at 01:00; only the two later outgoing transfers (49,000 each) carry it, half each
    by_to = {e.to_account: e.attributed for e in r.edges}
    assert "early" not in by_to
    assert by_to["coll"] == pytest.approx(5000) and by_to["coll2"] == pytest.approx(5000)
    assert by_to["exch"] == pytest.approx(5000 * 40000 / 45000)
    ends = r.summary()
    assert ends["exchanger"] == pytest.approx(5000 * 40000 / 45000)
    assert ends["cash_out"] == pytest.approx(5000 * 5000 / 45000)   # by channel: atm
    assert ends["foreign"] == pytest.approx(5000)                   # by country
    assert "someone" not in by_to                                     # not followed past the exchanger
    assert sum(ends.values()) == pytest.approx(10000)                 # nothing lost
    assert all(e.parent is None or e.parent in edges for e in r.edges)


def test_money_only_continues_after_it_arrived(route):
    r = tr.trace(route, "other")  # 50,000 arrived at 20:00 the day before: 'early' (23:00) may carry it
    assert "early" in {e.to_account for e in r.edges}
    r = tr.trace(route, "buyer4")  # arrived 05:00: 'early' left at 00:00, before it
    assert "early" not in {e.to_account for e in r.edges}


def test_fifo_pays_out_oldest_money_first(route):
    r = tr.trace(route, "buyer0", fifo=True)
    by_to = {e.to_account: e.attributed for e in r.edges}
    # drop's queue: other 50,000, then buyers; 'early' and 'coll' drain 'other', so buyer0's money goes to coll2
    assert "coll" not in by_to and by_to["coll2"] == pytest.approx(10000)
    assert by_to["abroad"] == pytest.approx(30000 * 10000 / 49000)
    assert sum(r.summary().values()) == pytest.approx(10000)


def test_backward_finds_where_money_came_from(route):
    r = tr.trace(route, "coll", backward=True)
    sources = {e.from_account: e.attributed for e in r.edges if e.hop == 2}
    assert set(sources) == {"other", "buyer0", "buyer1", "buyer2", "buyer3", "buyer4"}
    assert sum(sources.values()) == pytest.approx(49000)
    assert r.summary()["no earlier money in (origin)"] == pytest.approx(49000)


def test_hop_limit_and_time_window(route):
    r = tr.trace(route, "buyer0", hops=1)
    assert {e.hop for e in r.edges} == {1}
    assert r.summary()["still moving at hop limit"] == pytest.approx(10000)
    r = tr.trace(route, "drop", since=T0 + hours(6.5))
    assert {e.to_account for e in r.edges if e.hop == 1} == {"coll2"}


def test_unknown_account_is_a_clear_error(route):
    with pytest.raises(UserError, match="nobody"):
        tr.trace(route, "nobody")


def test_cli_prints_tree_and_writes_json(route, run_cli, tmp_path):
    out = tmp_path / "trail.json"
    res = run_cli("trace", "buyer0", "--hops", "3", "--out", out, "--workspace", route.root)
    assert res.exit_code == 0, res.stderr
    assert "where the money ended" in res.stdout and "exchanger" in res.stdout
    data = json.loads(out.read_text())
    assert {"nodes", "edges", "endpoints", "summary"} <= set(data)
    assert {n["account_id"] for n in data["nodes"]} >= {"buyer0", "drop", "coll", "exch"}
    assert {e["kind"] for e in data["endpoints"]} == {"exchanger", "cash_out", "foreign"}
    res = run_cli("trace", "buyer0", "--since", "yesterday", "--workspace", route.root)
    assert res.exit_code == 1 and "--since" in (res.stdout + res.stderr)
