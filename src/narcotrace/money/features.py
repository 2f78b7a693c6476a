"""Per-account features of the transfers graph, written once in Ibis so they run on DuckDB and on Spark.

`account_features(transfers, accounts)` returns one row per account seen in the transfers (see FEATURES for
the columns and what each means); `neighbour_mean(edges, node_values, hops)` averages a value over an
account's counterparties 1 or 2 hops away. Parameters live in features.yaml.

Windows (1 h / 24 h / 7 d) are tumbling buckets (local hour, day, week starting Monday), not sliding
windows: the same on every engine and cheap at tens of millions of rows; a burst that straddles a bucket
edge counts in two buckets, so velocity is a slight underestimate.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml

DEFAULT_PARAMS = Path(__file__).with_name("features.yaml")

# Column -> meaning (docs and the analytics helper read this).
FEATURES: dict[str, str] = {
    "account_id": "account",
    "in_count": "incoming transfers",
    "out_count": "outgoing transfers",
    "in_degree": "distinct payers",
    "out_degree": "distinct payees",
    "in_sum": "incoming amount (KZT)",
    "out_sum": "outgoing amount (KZT)",
    "in_mean": "mean incoming amount",
    "out_mean": "mean outgoing amount",
    "in_median": "median incoming amount",
    "out_median": "median outgoing amount",
    "in_max": "largest incoming amount",
    "out_max": "largest outgoing amount",
    "in_max_1h": "most incoming transfers in one clock hour",
    "in_max_24h": "most incoming transfers in one local day",
    "in_max_7d": "most incoming transfers in one local week (Monday to Sunday)",
    "in_max_sum_24h": "largest incoming amount in one day",
    "out_max_24h": "most outgoing transfers in one day",
    "out_max_sum_24h": "largest outgoing amount in one day",
    "pass_through": "out_sum / in_sum (NULL without incoming money)",
    "dwell_median_h": "median hours from the latest earlier incoming transfer to each outgoing one",
    "fast_out_share": "share of outgoing transfers made within fast_dwell_hours of money coming in",
    "in_price_share": "share of incoming transfers at bookmark prices (price_bands)",
    "in_round_share": "share of incoming transfers in round sums (round_step)",
    "out_round_share": "share of outgoing transfers in round sums (round_step)",
    "night_share": "share of all transfers at night, local time (night_hours, UTC+5)",
    "first_seen": "first transfer (UTC)",
    "last_seen": "last transfer (UTC)",
    "active_days": "distinct local days with a transfer",
    "small_payers": "distinct payers who paid at most small_payment_max",
    "small_payers_max_day": "most distinct small payers in one local day (many-small-payers fan-in)",
    "out_exchanger_share": "share of outgoing amount to exchangers/wallets or crypto channels",
    "out_abroad_share": "share of outgoing amount to foreign banks or accounts outside home_country",
    "out_cash_share": "share of outgoing amount taken as cash (cash_channels, or to cash_kinds accounts)",
    "in_exchanger_share": "share of incoming amount from exchangers/wallets or crypto channels",
}


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def load_params(params: dict[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """features.yaml, overridden by a dict or another YAML file."""
    base = dict(_load(str(DEFAULT_PARAMS)))
    if isinstance(params, (str, Path)):
        base.update(_load(str(params)))
    elif params:
        base.update(params)
    return base


def _share(cond: ir.BooleanValue) -> ir.FloatingValue:
    # Cast: Spark reads 1.0 as DECIMAL(2,1) and would average it to 5 decimals.
    return cond.ifelse(1, 0).cast("float64").mean()


def _multiple(x: ir.NumericValue, step: float) -> ir.BooleanValue:
    # Amounts are money with cents: compare on rounded cents, not with float modulo.
    cents = (x * 100).round().cast("int64")
    return (cents % int(round(step * 100))) == 0


def _epoch(ts: ir.TimestampValue) -> ir.IntegerValue:
    return ts.epoch_seconds()


def _has_asof(t: ir.Table) -> bool:
    """Whether the table's backend runs ASOF joins (DuckDB does; Spark SQL does not)."""
    try:
        return ibis.get_backend(t).name == "duckdb"
    except Exception:  # unbound or mixed expression: take the portable path
        return False


def account_features(transfers: ir.Table, accounts: ir.Table | None = None,
                     params: dict[str, Any] | str | Path | None = None) -> ir.Table:
    """One row per account seen in `transfers` with the columns in FEATURES."""
    p = load_params(params)
    offset = ibis.interval(hours=int(p["local_utc_offset_hours"]))
    t = transfers.select(
        "transfer_id", "timestamp", "from_account", "to_account",
        amount=transfers.amount_base.cast("float64"), channel=transfers.channel.cast("string"),
    )
    t = t.mutate(local=t.timestamp + offset)
    # Counterpart facts (kind, country) for the flows to exchangers, crypto and abroad.
    crypto = t.channel.lower().startswith(str(p["crypto_channel_prefix"]))
    cash = t.channel.lower().isin([str(c) for c in p["cash_channels"]])
    if accounts is not None:
        acc = accounts.select(
            acc_id=accounts.account_id,
            exch=accounts.kind.isin(list(p["exchanger_kinds"])).fill_null(False),
            abroad=(accounts.kind.isin(list(p["foreign_kinds"])).fill_null(False)
                    | (accounts.country.notnull() & (accounts.country != p["home_country"]))),
            cash=accounts.kind.isin(list(p.get("cash_kinds", []))).fill_null(False),
        )
        t = t.left_join(acc, t.to_account == acc.acc_id).select(
            t, to_exch=acc.exch.fill_null(False), to_abroad=acc.abroad.fill_null(False),
            to_cash=acc.cash.fill_null(False))
        acc2 = acc.view()
        t = t.left_join(acc2, t.from_account == acc2.acc_id).select(t, from_exch=acc2.exch.fill_null(False))
    else:
        t = t.mutate(to_exch=ibis.literal(False), to_abroad=ibis.literal(False), from_exch=ibis.literal(False),
                     to_cash=ibis.literal(False))
    t = t.mutate(
        to_exch=t.to_exch | crypto.fill_null(False),
        from_exch=t.from_exch | crypto.fill_null(False),
        cash=cash.fill_null(False) | t.to_cash,
    )

    # -- per side: counts, amounts, price shapes, flows, night and first/last seen ------------------
    price = ibis.literal(False)
    for band in p["price_bands"]:
        price = price | (t.amount.between(float(band["min"]), float(band["max"]))
                         & _multiple(t.amount, float(band["step"])))
    round_ = _multiple(t.amount, float(p["round_step"]))
    night_start, night_end = (int(h) for h in p["night_hours"])
    hour = t.local.hour()
    night = ((hour >= night_start) & (hour < night_end)).ifelse(1, 0)
    inc = t.group_by(account_id=t.to_account).aggregate(
        in_count=t.count(),
        in_degree=t.from_account.nunique(),
        in_sum=t.amount.sum(),
        in_mean=t.amount.mean(),
        in_median=t.amount.median(),
        in_max=t.amount.max(),
        in_price_share=_share(price),
        in_round_share=_share(round_),
        in_exchanger_share=t.from_exch.ifelse(t.amount, 0.0).sum() / t.amount.sum(),
        in_night=night.sum(),
        in_first=t.timestamp.min(),
        in_last=t.timestamp.max(),
    )
    out = t.group_by(account_id=t.from_account).aggregate(
        out_count=t.count(),
        out_degree=t.to_account.nunique(),
        out_sum=t.amount.sum(),
        out_mean=t.amount.mean(),
        out_median=t.amount.median(),
        out_max=t.amount.max(),
        out_round_share=_share(round_),
        out_exchanger_share=t.to_exch.ifelse(t.amount, 0.0).sum() / t.amount.sum(),
        out_abroad_share=t.to_abroad.ifelse(t.amount, 0.0).sum() / t.amount.sum(),
        out_cash_share=t.cash.ifelse(t.amount, 0.0).sum() / t.amount.sum(),
        out_night=night.sum(),
        out_first=t.timestamp.min(),
        out_last=t.timestamp.max(),
    )

    # -- velocity: tumbling local hours, days and weeks; one pass over the transfers per side ---------
    raw = transfers.select("from_account", "to_account", "timestamp", amount=transfers.amount_base.cast("float64"))
    raw = raw.mutate(local=raw.timestamp + offset)
    in_h = raw.group_by(account_id=raw.to_account, hour=raw.local.truncate("h")).aggregate(
        n=raw.count(), s=raw.amount.sum())
    in_d = in_h.group_by("account_id", day=in_h.hour.date()).aggregate(n=in_h.n.sum(), s=in_h.s.sum())
    in_w = in_h.group_by("account_id", week=in_h.hour.truncate("W")).aggregate(n=in_h.n.sum())
    out_d = raw.group_by(account_id=raw.from_account, day=raw.local.date()).aggregate(
        n=raw.count(), s=raw.amount.sum())
    windows = [
        in_h.group_by("account_id").aggregate(in_max_1h=in_h.n.max()),
        in_d.group_by("account_id").aggregate(in_max_24h=in_d.n.max(), in_max_sum_24h=in_d.s.max()),
        in_w.group_by("account_id").aggregate(in_max_7d=in_w.n.max()),
        out_d.group_by("account_id").aggregate(out_max_24h=out_d.n.max(), out_max_sum_24h=out_d.s.max()),
    ]
    days = in_d.select("account_id", "day").union(out_d.select("account_id", "day"), distinct=True)
    active = days.group_by("account_id").aggregate(active_days=days.count())

    # -- dwell: for each outgoing transfer, time since the latest earlier incoming one ---------------
    # Money in at the same instant as money out counts as before it.
    if _has_asof(transfers):
        # DuckDB: an ASOF join (sorted merge per account) is ~2.5x cheaper than the running-max window.
        o = raw.select(account_id=raw.from_account, ts=raw.timestamp)
        i = raw.select(i_acct=raw.to_account, i_ts=raw.timestamp)
        j = o.asof_join(i, on=o.ts >= i.i_ts, predicates=o.account_id == i.i_acct)
        outs = j.filter(j.i_ts.notnull()).select("account_id", ts=j.ts, last_in=_epoch(j.i_ts))
    else:  # Spark SQL has no ASOF join: a running max of incoming times over each account's events
        ev = (
            raw.select(account_id=raw.to_account, ts=raw.timestamp, is_in=ibis.literal(1))
            .union(raw.select(account_id=raw.from_account, ts=raw.timestamp, is_in=ibis.literal(0)), distinct=False)
        )
        # is_in=1 sorts first at equal times; the order of simultaneous transfers on the same side does not
        # change the latest incoming time.
        w = ibis.window(group_by=ev.account_id, order_by=[ev.ts, ibis.desc(ev.is_in)], preceding=None, following=0)
        ev = ev.mutate(last_in=(ev.is_in == 1).ifelse(_epoch(ev.ts), ibis.null("int64")).max().over(w))
        outs = ev.filter((ev.is_in == 0) & ev.last_in.notnull())
    outs = outs.mutate(dwell_h=(_epoch(outs.ts) - outs.last_in).cast("float64") / 3600.0)
    fast = float(p["fast_dwell_hours"])
    dwell = outs.group_by("account_id").aggregate(
        dwell_median_h=outs.dwell_h.median(),
        fast_out_n=(outs.dwell_h <= fast).ifelse(1, 0).sum(),
    )

    # -- many small payers ---------------------------------------------------------------------------
    small = raw.filter(raw.amount <= float(p["small_payment_max"]))
    per_day = small.group_by(account_id=small.to_account, day=small.local.date()).aggregate(
        n=small.from_account.nunique())
    small_day = per_day.group_by("account_id").aggregate(small_payers_max_day=per_day.n.max())
    small_all = small.group_by(account_id=small.to_account).aggregate(small_payers=small.from_account.nunique())

    # -- assemble -----------------------------------------------------------------------------------
    res = active
    for part in [inc, out, *windows, dwell, small_day, small_all]:
        res = res.left_join(part, res.account_id == part.account_id).drop("account_id_right")
    zero_int = ["in_count", "out_count", "in_degree", "out_degree", "in_max_1h", "in_max_24h", "in_max_7d",
                "out_max_24h", "small_payers", "small_payers_max_day"]
    zero_float = ["in_sum", "out_sum", "in_max_sum_24h", "out_max_sum_24h"]
    res = res.mutate(
        **{c: res[c].fill_null(0).cast("int64") for c in zero_int},
        **{c: res[c].fill_null(0.0).cast("float64") for c in zero_float},
    )
    res = res.mutate(
        night_share=(res.in_night.fill_null(0) + res.out_night.fill_null(0)).cast("float64")
        / (res.in_count + res.out_count),
        first_seen=ibis.least(res.in_first.fill_null(res.out_first), res.out_first.fill_null(res.in_first)),
        last_seen=ibis.greatest(res.in_last.fill_null(res.out_last), res.out_last.fill_null(res.in_last)),
        pass_through=(res.in_sum > 0).ifelse(res.out_sum / res.in_sum, ibis.null("float64")),
        fast_out_share=(res.out_count > 0).ifelse(
            res.fast_out_n.fill_null(0).cast("float64") / res.out_count, ibis.null("float64")),
    )
    return res.select(*FEATURES.keys())


def neighbour_pairs(edges: ir.Table, *, src: str = "from_account", dst: str = "to_account") -> ir.Table:
    """Distinct (a, b) counterparty pairs in both directions, without self-pairs."""
    e = edges.select(a=edges[src], b=edges[dst])
    return e.union(e.select(a=e.b, b=e.a)).filter(lambda x: x.a != x.b).distinct()


def neighbour_mean(edges: ir.Table, node_values: ir.Table, hops: int = 1, *, src: str = "from_account",
                   dst: str = "to_account", key: str = "account_id", value: str = "value",
                   max_hub_degree: int | None = None, pairs: ir.Table | None = None) -> ir.Table:
    """Mean of `value` over each account's counterparties (either direction) within `hops` (1 or 2).

    Returns (account_id, neighbour_mean, neighbour_n). On the second hop, accounts with more than
    max_hub_degree counterparties are not walked through (features.yaml), so a big merchant or exchanger
    does not make everyone a neighbour of everyone; the account itself is never its own neighbour.
    `pairs` (from neighbour_pairs) saves rebuilding the counterparty pairs when several values are averaged.
    """
    if hops not in (1, 2):
        raise ValueError("hops must be 1 or 2")
    if pairs is None:
        pairs = neighbour_pairs(edges, src=src, dst=dst)
    if hops == 2:
        cap = max_hub_degree if max_hub_degree is not None else int(load_params()["max_hub_degree"])
        deg = pairs.group_by("a").aggregate(deg=pairs.count())
        hubs_ok = deg.filter(deg.deg <= cap).select(mid=deg.a)
        p1 = pairs.rename(mid="b")
        p1 = p1.inner_join(hubs_ok, "mid").select("a", "mid")
        p2 = pairs.rename(mid="a", c="b")
        two = p1.inner_join(p2, "mid").select(a=p1.a, b=p2.c)
        pairs = pairs.union(two).filter(lambda x: x.a != x.b).distinct()
    v = node_values.select(b=node_values[key], v=node_values[value].cast("float64"))
    j = pairs.inner_join(v, "b")
    return j.group_by(account_id=j.a).aggregate(neighbour_mean=j.v.mean(), neighbour_n=j.v.count())
