"""Each typology finds the shape planted in hand-made transfers, explains it, and respects time order."""

from __future__ import annotations

import ibis
import pytest

from narcotrace.errors import UserError
from narcotrace.money import typologies as ty
from shapes import T0, Builder, hours, shapes_world


@pytest.fixture(scope="module")
def found():
    df, truth = shapes_world()
    con = ibis.duckdb.connect()
    hits = {name: expr.execute() for name, expr in ty.detect(con.create_table("transfers", df)).items()}
    return hits, truth


@pytest.mark.parametrize("name", list(ty.DETECTORS))
def test_planted_shape_is_found_with_its_transfers(found, name):
    hits, truth = found
    planted = truth[name]
    matching = [h for _, h in hits[name].iterrows() if planted["transfers"] <= set(h.transfer_ids)]
    assert matching, f"{name}: no hit holds the planted transfers; hits: {hits[name].hit_id.tolist()}"
    h = matching[0]
    assert planted["anchor"] in list(h.account_ids)
    assert h.hit_id.startswith(name + ":") and h.typology == name
    assert h.amount > 0 and h.first_ts <= h.last_ts
    assert isinstance(h.explanation, str) and len(h.explanation) > 20


def test_hit_ids_are_unique_and_columns_canonical(found):
    hits, _ = found
    for name, df in hits.items():
        assert list(df.columns) == ty.HIT_COLUMNS
        assert df.hit_id.is_unique, name


def test_cycle_needs_time_order(found):
    hits, _ = found
    members = [set(h.account_ids) for _, h in hits["cycle"].iterrows()]
    assert {"c0", "c1", "c2", "c3"} in members
    # x0 -> x1 at 50 h, x1 -> x2 at 45 h, x2 -> x0 at 55 h: no rotation is time-ordered
    assert not any({"x0", "x1", "x2"} <= m for m in members)


def test_rapid_pass_through_explains_the_drop(found):
    hits, _ = found
    h = hits["rapid_pass_through"].set_index("hit_id").iloc[0]
    assert list(h.account_ids)[:2] == ["drop1", "coll1"]
    assert "12 payers" in h.explanation and "98%" in h.explanation


def test_chain_reported_once_from_its_start(found):
    hits, _ = found
    chains = hits["random_chain"]
    assert len(chains[chains.account_ids.map(lambda a: "r2" in list(a))]) == 1


def test_drop_forwarding_too_slowly_is_not_a_pass_through():
    b = Builder()
    for i in range(8):
        b.add(f"buyer{i}", "slow", 10000, T0 + hours(i))
    b.add("slow", "coll", 78000, T0 + hours(200))  # forwarded 8 days later
    con = ibis.duckdb.connect()
    hits = ty.detect(con.create_table("t", b.frame()), only=["rapid_pass_through"])["rapid_pass_through"].execute()
    assert hits.empty


def test_structuring_threshold_is_a_parameter():
    b = Builder()
    for i in range(4):
        b.add("s", f"r{i}", 480000, T0 + hours(i))
    con = ibis.duckdb.connect()
    t = con.create_table("t", b.frame())
    params = ty.load_params()
    assert ty.detect(t, params, only=["structuring"])["structuring"].execute().empty
    params["structuring"]["threshold"] = 500000
    hits = ty.detect(t, params, only=["structuring"])["structuring"].execute()
    assert len(hits) == 1 and "500,000" in hits.explanation[0]


def test_parameter_file_overrides_and_rejects_unknown_keys(tmp_path):
    good = tmp_path / "p.yaml"
    good.write_text("fan_in: {min_counterparties: 3}\n")
    p = ty.load_params(good)
    assert p["fan_in"]["min_counterparties"] == 3 and p["fan_in"]["window_hours"] == 168
    bad = tmp_path / "bad.yaml"
    bad.write_text("fan_inn: {min_counterparties: 3}\n")
    with pytest.raises(UserError, match="fan_inn"):
        ty.load_params(bad)
    bad.write_text("fan_in: {min_payers: 3}\n")
    with pytest.raises(UserError, match="min_payers"):
        ty.load_params(bad)


def test_busy_accounts_do_not_relay_multi_hop_shapes():
    b = Builder()
    for i in range(4):  # a cycle through a hub that has thousands of other transfers
        b.add(f"h{i}", f"h{(i + 1) % 4}", 500000, T0 + hours(10 + i))
    for i in range(30):
        b.add(f"shopper{i}", "h2", 1000, T0 + hours(i % 20))
    con = ibis.duckdb.connect()
    t = con.create_table("t", b.frame())
    params = ty.load_params()
    assert len(ty.detect(t, params, only=["cycle"])["cycle"].execute()) == 1
    params["max_node_transfers"] = 20
    assert ty.detect(t, params, only=["cycle"])["cycle"].execute().empty
