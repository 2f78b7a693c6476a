"""Account features on DuckDB, checked against values worked out by hand for the small fixture world."""

from __future__ import annotations

import pytest

from narcotrace.money.engine import DuckDBEngine
from narcotrace.money.features import FEATURES, account_features, neighbour_mean
from narcotrace.money.fx import load_rates


@pytest.fixture
def feats(small_world):
    eng = DuckDBEngine(small_world)
    df = eng.execute(account_features(eng.table("transfers"), eng.table("accounts")))
    return df.set_index("account_id")


def test_one_row_per_account_with_documented_columns(feats):
    assert list(feats.reset_index().columns) == list(FEATURES)
    assert set(feats.index) == {"B1", "B2", "B3", "B4", "D1", "C1", "X1", "F1", "M1"}


def test_drop_account_profile(feats):
    d = feats.loc["D1"]
    assert (d.in_count, d.in_degree, d.out_count, d.out_degree) == (4, 4, 1, 1)
    assert d.in_sum == 27500 and d.out_sum == 27000
    assert d.in_median == pytest.approx(6250)
    assert d.pass_through == pytest.approx(27000 / 27500)
    # four payments inside 19:00-20:00 UTC, i.e. 00:10-00:40 in Almaty: night, one hour, one local day
    assert d.in_max_1h == 4 and d.in_max_24h == 4
    assert d.night_share == 1.0
    assert d.active_days == 1
    # paid out 1 h 20 min after the last payment came in
    assert d.dwell_median_h == pytest.approx(80 / 60)
    assert d.fast_out_share == 1.0
    assert d.in_price_share == 1.0  # 5000, 5000, 7500, 10000 are all bookmark prices
    assert d.small_payers == 4 and d.small_payers_max_day == 4


def test_collector_flows_to_exchanger_and_abroad(feats):
    c = feats.loc["C1"]
    usd = 100 * load_rates().rates["USD"]  # static reference rate (fx_rates.yaml)
    assert c.out_sum == pytest.approx(20000 + usd)
    assert c.out_exchanger_share == pytest.approx(20000 / (20000 + usd))
    assert c.out_abroad_share == pytest.approx(usd / (20000 + usd))
    assert c.out_round_share == 0.5  # 20000 is round, 100 USD in KZT is not a multiple of 10000


def test_buyer_without_incoming_money(feats):
    b = feats.loc["B1"]
    assert b.in_count == 0 and b.pass_through != b.pass_through  # NaN: no money came in
    assert b.out_count == 2 and b.active_days == 2


def test_features_without_accounts_use_channels_only(small_world):
    eng = DuckDBEngine(small_world)
    df = eng.execute(account_features(eng.table("transfers"))).set_index("account_id")
    usd = 100 * load_rates().rates["USD"]
    assert df.loc["C1"].out_exchanger_share == pytest.approx(20000 / (20000 + usd))  # crypto_usdt channel
    assert df.loc["C1"].out_abroad_share == 0.0  # no account facts: abroad unknown


def test_params_override_changes_price_grid(small_world):
    eng = DuckDBEngine(small_world)
    df = eng.execute(account_features(eng.table("transfers"), params={
        "price_bands": [{"min": 9000, "max": 11000, "step": 1000}]})).set_index("account_id")
    assert df.loc["D1"].in_price_share == 0.25


def test_neighbour_mean_one_and_two_hops(small_world):
    import ibis

    eng = DuckDBEngine(small_world)
    vals = ibis.memtable({"account_id": ["D1", "C1", "X1"], "value": [1.0, 0.5, 0.0]})
    one = eng.execute(neighbour_mean(eng.table("transfers"), vals, 1)).set_index("account_id")
    assert one.loc["C1"].neighbour_mean == pytest.approx((1.0 + 0.0) / 2)  # D1 and X1 (F1 has no value)
    assert one.loc["B2"].neighbour_mean == 1.0
    two = eng.execute(neighbour_mean(eng.table("transfers"), vals, 2)).set_index("account_id")
    assert two.loc["B2"].neighbour_mean == pytest.approx((1.0 + 0.5) / 2)  # D1, then C1 through D1
    assert "D1" in two.index and two.loc["D1"].neighbour_n == 2  # C1 and X1; never itself


def test_engine_write_stores_features_in_workspace(small_world):
    eng = DuckDBEngine(small_world)
    n = eng.write("account_features", account_features(eng.table("transfers"), eng.table("accounts")))
    assert n == 9 == small_world.count("account_features")


def test_engine_write_accepts_in_memory_tables(small_world):
    import ibis

    eng = DuckDBEngine(small_world)
    vals = ibis.memtable({"account_id": ["D1", "C1"], "value": [1.0, 0.5]})
    n = eng.write("neighbour_scores", neighbour_mean(eng.table("transfers"), vals, 1))
    assert n == small_world.count("neighbour_scores") > 0
    n = eng.write("neighbour_scores", neighbour_mean(eng.table("transfers"), vals, 2))  # replaces
    assert n == small_world.count("neighbour_scores")
