"""The same feature expressions on DuckDB and on Spark (local mode) give the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from narcotrace.money.engine import DuckDBEngine, SparkEngine
from narcotrace.money.features import account_features, neighbour_mean

pytestmark = pytest.mark.spark


def random_world(ws, n: int = 3000, accounts: int = 150, seed: int = 7) -> None:
    """Random transfers over a month with ties, bookmark prices, night hours, crypto and foreign accounts."""
    rng = np.random.default_rng(seed)
    ids = [f"A{i:03d}" for i in range(accounts)]
    src = rng.integers(0, accounts, n)
    dst = (src + rng.integers(1, accounts, n)) % accounts  # never a self-transfer
    minutes = rng.integers(0, 30 * 24 * 60, n)
    minutes[:50] = minutes[50:100]  # exact timestamp ties, to exercise the dwell ordering
    amounts = np.where(rng.random(n) < 0.4, rng.integers(4, 40, n) * 500.0, rng.gamma(2.0, 20000, n).round(2))
    df = pd.DataFrame({
        "transfer_id": [f"r{i}" for i in range(n)],
        "timestamp": pd.Timestamp("2025-05-01") + pd.to_timedelta(minutes, unit="min"),
        "from_account": [ids[i] for i in src], "to_account": [ids[i] for i in dst],
        "amount": amounts, "currency": "KZT",
        "channel": rng.choice(["card_p2p", "phone_p2p", "crypto_usdt", "atm", "swift"], n,
                              p=[0.5, 0.3, 0.1, 0.05, 0.05]),
    })
    acc = pd.DataFrame({"account_id": ids,
                        "kind": rng.choice(["bank", "exchanger", "wallet", "foreign"], accounts, p=[.85, .05, .05, .05]),
                        "country": rng.choice(["KZ", "TR", None], accounts, p=[.8, .1, .1])})
    ws.con.register("_df", df)
    ws.con.execute("""INSERT INTO transfers (transfer_id, timestamp, from_account, to_account, amount, currency,
                      amount_base, channel, source, source_row)
                      SELECT transfer_id, timestamp, from_account, to_account, amount, currency, amount, channel,
                             'random', row_number() OVER () FROM _df""")
    ws.con.register("_acc", acc)
    ws.con.execute("INSERT INTO accounts (account_id, kind, country) SELECT * FROM _acc")


def assert_frames_match(a: pd.DataFrame, b: pd.DataFrame, key: str = "account_id") -> None:
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if pd.api.types.is_datetime64_any_dtype(a[c]):
            assert (a[c].astype("datetime64[us]") == b[c].astype("datetime64[us]")).all(), c
        elif pd.api.types.is_float_dtype(a[c]):
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-9, atol=1e-9,
                                       equal_nan=True, err_msg=c)
        else:
            assert a[c].tolist() == b[c].tolist(), c


@pytest.mark.parametrize("world", ["small", "random"])
def test_features_equal_on_duckdb_and_spark(world, workspace, spark, money_fixtures):
    if world == "small":
        from narcotrace.money.ingest import ingest_accounts, ingest_paths

        ingest_accounts(workspace, [money_fixtures / "accounts_small.csv"])
        ingest_paths(workspace, [money_fixtures / "transfers_small.csv"])
    else:
        random_world(workspace)
    duck = DuckDBEngine(workspace)
    with SparkEngine(workspace, spark) as sp:
        a = duck.execute(account_features(duck.table("transfers"), duck.table("accounts")))
        b = sp.execute(account_features(sp.table("transfers"), sp.table("accounts")))
        assert len(a) > 5
        assert_frames_match(a, b)
        # the 2-hop neighbour mean of a feature, too
        na = duck.execute(neighbour_mean(duck.table("transfers"), duck.table("transfers").select(
            account_id="to_account", value="amount_base"), 2, max_hub_degree=40))
        nb = sp.execute(neighbour_mean(sp.table("transfers"), sp.table("transfers").select(
            account_id="to_account", value="amount_base"), 2, max_hub_degree=40))
        assert_frames_match(na, nb)


def test_spark_engine_writes_back_into_the_workspace(workspace, spark):
    random_world(workspace, n=500, accounts=40)
    import ibis

    vals = ibis.memtable({"account_id": ["A000", "A001"], "value": [1.0, 0.0]})
    with SparkEngine(workspace, spark) as sp:
        n = sp.write("account_features", account_features(sp.table("transfers"), sp.table("accounts")))
        m = sp.write("neighbour_scores", neighbour_mean(sp.table("transfers"), vals, 1))  # an in-memory table too
    assert n == workspace.count("account_features") == 40
    assert m == workspace.count("neighbour_scores") > 0
    duck = DuckDBEngine(workspace)
    a = duck.execute(account_features(duck.table("transfers"), duck.table("accounts")))
    stored = workspace.con.execute("SELECT * FROM account_features").df()
    assert_frames_match(a, stored)
