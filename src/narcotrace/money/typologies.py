"""Laundering typologies written once in Ibis, so they run on DuckDB and Spark alike.

Each detector takes the prepared edges (one row per transfer) and its parameters and returns an Ibis
table in the `typology_hits` shape: hit_id, typology, account_ids, transfer_ids, amount, first_ts,
last_ts, explanation. Arrays are sorted (Spark collects in no set order) and capped at `max_evidence`.
Multi-hop shapes (cycle, random chain) grow paths by repeated time-ordered joins over a bounded
frontier; each level is cached on the backend so the next join starts from a table, not a plan.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml

from narcotrace.errors import UserError

DEFAULTS_PATH = Path(__file__).with_name("typologies.yaml")
HIT_COLUMNS = ["hit_id", "typology", "account_ids", "transfer_ids", "amount", "first_ts", "last_ts", "explanation"]


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """Default parameters, with the keys of `path` (a YAML file) laid over them."""
    params = yaml.safe_load(DEFAULTS_PATH.read_text(encoding="utf-8"))
    if path is None:
        return params
    try:
        override = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"--typologies {path}: cannot read it as YAML ({e})") from e
    if not isinstance(override, dict):
        raise UserError(f"--typologies {path}: expected a mapping of typology -> parameters")
    merged = copy.deepcopy(params)
    for key, value in override.items():
        if key not in params:
            raise UserError(f"--typologies {path}: unknown key {key!r}; known: {', '.join(params)}")
        if isinstance(value, dict):
            unknown = set(value) - set(params[key])
            if unknown:
                raise UserError(f"--typologies {path}: {key} has unknown parameters {sorted(unknown)}")
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


# ---- shared building blocks -----------------------------------------------------------------

def prepare_edges(transfers: ir.Table) -> ir.Table:
    """One row per usable transfer: ids, epoch seconds, both accounts, base amount, channel.

    Self-transfers and non-positive amounts carry no flow between accounts, so no shape uses them.
    """
    t = transfers
    amt = t.amount_base.coalesce(t.amount).cast("float64")
    e = t.select(
        tid=t.transfer_id, ts=t.timestamp, ts_s=t.timestamp.epoch_seconds().cast("int64"),
        src=t.from_account, dst=t.to_account, amt=amt, channel=t.channel.coalesce(""),
    )
    return e.filter(e.src.notnull(), e.dst.notnull(), e.src != e.dst, e.amt > 0, e.ts.notnull())


def node_transfer_counts(e: ir.Table) -> ir.Table:
    """Transfers per account (in + out): busy accounts are left out as relays of multi-hop shapes."""
    outs = e.group_by(acct=e.src).agg(n=e.count())
    ins = e.group_by(acct=e.dst).agg(n=e.count())
    both = outs.union(ins, distinct=False)
    return both.group_by("acct").agg(n=both.n.sum())


def _bucket(e: ir.Table, hours: float) -> ir.IntegerValue:
    return (e.ts_s // int(hours * 3600)).cast("int64")


def _money(x: ir.NumericValue) -> ir.StringValue:
    return x.round(0).cast("int64").cast("string")


def _s(x: ir.Value) -> ir.StringValue:
    return x.cast("string")


def _sorted(arr: ir.ArrayValue, cap: int | None = None) -> ir.ArrayValue:
    arr = arr.unique().sort()
    return arr[:cap] if cap else arr


def _hits(t: ir.Table, typology: str, hit_id, account_ids, transfer_ids, amount, first_ts, last_ts,
          explanation) -> ir.Table:
    return t.select(
        hit_id=ibis.literal(typology + ":") + hit_id,
        typology=ibis.literal(typology),
        account_ids=account_ids,
        transfer_ids=transfer_ids,
        amount=amount.cast("float64"),
        first_ts=first_ts,
        last_ts=last_ts,
        explanation=explanation,
    )


def _only_quiet(t: ir.Table, col: str, quiet_nodes: ir.Table) -> ir.Table:
    q = quiet_nodes.view()
    return t.semi_join(q, t[col] == q.acct)


def _without_channels(e: ir.Table, channels: list[str] | None) -> ir.Table:
    return e.filter(~e.channel.isin(channels)) if channels else e


# ---- one-account shapes -----------------------------------------------------------------------

def _fan(e: ir.Table, p: dict, cap: int, *, direction: str) -> ir.Table:
    e = _without_channels(e, p.get("ignore_channels"))
    anchor, other = ("dst", "src") if direction == "in" else ("src", "dst")
    e = e.mutate(bucket=_bucket(e, p["window_hours"]), anchor=e[anchor], other=e[other])
    rn = ibis.row_number().over(group_by=[e.anchor, e.bucket], order_by=[e.ts_s, e.tid])
    e = e.mutate(rn=rn)
    g = e.group_by(["anchor", "bucket"]).agg(
        n_cp=e.other.nunique(), n=e.count(), amount=e.amt.sum(), first_ts=e.ts.min(), last_ts=e.ts.max(),
        tids=e.tid.collect(where=e.rn < cap), cps=e.other.collect(where=e.rn < cap),
    )
    g = g.filter(g.n_cp >= p["min_counterparties"])
    name = "fan_in" if direction == "in" else "fan_out"
    verb = "distinct payers paid" if direction == "in" else "distinct recipients were paid by"
    expl = (_s(g.n_cp) + f" {verb} " + g.anchor + " in " + _s(g.n) + " transfers totalling "
            + _money(g.amount) + f" within {p['window_hours']} h")
    return _hits(g, name, g.anchor + ":" + _s(g.bucket), ibis.array([g.anchor]).concat(_sorted(g.cps)),
                 _sorted(g.tids), g.amount, g.first_ts, g.last_ts, expl)


def fan_in(e: ir.Table, p: dict, cap: int, **_: Any) -> ir.Table:
    return _fan(e, p, cap, direction="in")


def fan_out(e: ir.Table, p: dict, cap: int, **_: Any) -> ir.Table:
    return _fan(e, p, cap, direction="out")


def structuring(e: ir.Table, p: dict, cap: int, **_: Any) -> ir.Table:
    lo = p["threshold"] * (1 - p["margin"])
    e = e.filter(e.amt >= lo, e.amt < p["threshold"])
    e = e.mutate(bucket=_bucket(e, p["window_hours"]))
    g = e.group_by(["src", "bucket"]).agg(
        n=e.count(), amount=e.amt.sum(), first_ts=e.ts.min(), last_ts=e.ts.max(),
        tids=e.tid.collect(), recv=e.dst.collect(),
    )
    g = g.filter(g.n >= p["min_count"])
    expl = (g.src + " made " + _s(g.n) + f" payments just under the {p['threshold']:,.0f} threshold "
            f"(>= {lo:,.0f}) totalling " + _money(g.amount) + f" within {p['window_hours']} h")
    return _hits(g, "structuring", g.src + ":" + _s(g.bucket), ibis.array([g.src]).concat(_sorted(g.recv, cap)),
                 _sorted(g.tids, cap), g.amount, g.first_ts, g.last_ts, expl)


def rapid_pass_through(e: ir.Table, p: dict, cap: int, **_: Any) -> ir.Table:
    """The drop profile: many small payments from distinct payers, forwarded within hours to few accounts."""
    w = e.mutate(bucket=_bucket(e, p["window_hours"]))
    ins = w.group_by(acct=w.dst, bucket=w.bucket).agg(
        n_in=w.count(), payers=w.src.nunique(), sum_in=w.amt.sum(), mean_in_s=w.ts_s.mean(),
        first_in_s=w.ts_s.min(), last_in_s=w.ts_s.max(), first_ts=w.ts.min(),
        in_tids=w.tid.collect(), in_payers=w.src.collect(),
    )
    ins = ins.filter(ins.payers >= p["min_payers"], ins.sum_in / ins.n_in <= p["max_mean_incoming"])
    dwell = int(p["max_dwell_hours"] * 3600)
    outs = e.select(o_acct=e.src, o_dst=e.dst, o_tid=e.tid, o_ts=e.ts, o_s=e.ts_s, o_amt=e.amt)
    j = ins.join(outs, [ins.acct == outs.o_acct, outs.o_s >= ins.first_in_s, outs.o_s <= ins.last_in_s + dwell])
    g = j.group_by(["acct", "bucket"]).agg(
        n_in=j.n_in.max(), payers=j.payers.max(), sum_in=j.sum_in.max(), mean_in_s=j.mean_in_s.max(),
        first_ts=j.first_ts.min(), in_tids=j.in_tids.first(), in_payers=j.in_payers.first(),
        sum_out=j.o_amt.sum(), recipients=j.o_dst.nunique(), mean_out_s=j.o_s.mean(), last_ts=j.o_ts.max(),
        out_tids=j.o_tid.collect(), out_dsts=j.o_dst.collect(),
    )
    ratio = g.sum_out / g.sum_in
    g = g.mutate(ratio=ratio, dwell_h=(g.mean_out_s - g.mean_in_s) / 3600.0)
    g = g.filter(g.recipients <= p["max_recipients"], g.ratio >= p["min_forward_ratio"],
                 g.ratio <= p["max_forward_ratio"], g.dwell_h >= 0, g.dwell_h <= p["max_dwell_hours"])
    expl = (g.acct + " received " + _money(g.sum_in) + " in " + _s(g.n_in) + " payments from "
            + _s(g.payers) + " payers and forwarded " + _money(g.ratio * 100) + "% to " + _s(g.recipients)
            + " account(s) after " + _s(g.dwell_h.round(1)) + " h on average")
    accounts = ibis.array([g.acct]).concat(_sorted(g.out_dsts)).concat(_sorted(g.in_payers, cap))
    tids = _sorted(g.out_tids).concat(_sorted(g.in_tids, cap))[:cap]
    return _hits(g, "rapid_pass_through", g.acct + ":" + _s(g.bucket), accounts, tids, g.sum_in,
                 g.first_ts, g.last_ts, expl)


def gather_scatter(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, **_: Any) -> ir.Table:
    e = e.filter(e.amt >= p["min_amount"])
    w = e.mutate(bucket=_bucket(e, p["window_hours"]))
    w = _only_quiet(w, "dst", quiet_nodes)
    ins = w.group_by(acct=w.dst, bucket=w.bucket).agg(
        payers=w.src.nunique(), sum_in=w.amt.sum(), first_in_s=w.ts_s.min(), first_ts=w.ts.min(),
        in_tids=w.tid.collect(), in_accts=w.src.collect())
    ins = ins.filter(ins.payers >= p["min_payers"])
    o = e.mutate(o_bucket=_bucket(e, p["window_hours"]))
    outs = o.group_by(o_acct=o.src, o_bucket=o.o_bucket).agg(
        recipients=o.dst.nunique(), sum_out=o.amt.sum(), last_out_s=o.ts_s.max(), last_ts=o.ts.max(),
        out_tids=o.tid.collect(), out_accts=o.dst.collect())
    g = ins.join(outs, [ins.acct == outs.o_acct, ins.bucket == outs.o_bucket])
    g = g.mutate(ratio=g.sum_out / g.sum_in)
    g = g.filter(g.recipients >= p["min_recipients"], g.last_out_s >= g.first_in_s,
                 g.ratio >= p["min_forward_ratio"], g.ratio <= p["max_forward_ratio"])
    expl = (_s(g.payers) + " payers paid " + g.acct + " " + _money(g.sum_in) + ", which paid "
            + _money(g.sum_out) + " on to " + _s(g.recipients) + f" recipients within {p['window_hours']} h")
    accounts = ibis.array([g.acct]).concat(_sorted(g.in_accts, cap)).concat(_sorted(g.out_accts, cap))
    tids = _sorted(g.in_tids, cap).concat(_sorted(g.out_tids, cap))
    return _hits(g, "gather_scatter", g.acct + ":" + _s(g.bucket), accounts, tids, g.sum_in,
                 g.first_ts, g.last_ts, expl)


# ---- group shapes -------------------------------------------------------------------------------

def _bipartite_groups(e: ir.Table, p: dict, quiet_nodes: ir.Table) -> ir.Table:
    """Payers of one window grouped by the exact set of accounts they paid (both sides of size >= 2)."""
    e = e.filter(e.amt >= p["min_amount"])
    w = e.mutate(bucket=_bucket(e, p["window_hours"]))
    w = _only_quiet(_only_quiet(w, "src", quiet_nodes), "dst", quiet_nodes)
    per_payer = w.group_by(["src", "bucket"]).agg(recv=w.dst.collect(), n_recv=w.dst.nunique())
    per_payer = per_payer.filter(per_payer.n_recv >= p["min_recipients"], per_payer.n_recv <= p["max_side"])
    per_payer = per_payer.mutate(sig=per_payer.recv.unique().sort().join(";"))
    groups = per_payer.group_by(["sig", "bucket"]).agg(n_payers=per_payer.count())
    groups = groups.filter(groups.n_payers >= p["min_payers"], groups.n_payers <= p["max_side"])
    members = per_payer.select("src", "bucket", "sig").semi_join(groups, ["sig", "bucket"])
    ev = w.join(members, ["src", "bucket"])
    g = ev.group_by(["sig", "bucket"]).agg(
        payers=ev.src.collect(), recv=ev.dst.collect(), tids=ev.tid.collect(), amount=ev.amt.sum(),
        first_ts=ev.ts.min(), last_ts=ev.ts.max(), n=ev.count())
    return g.mutate(payers=_sorted(g.payers), recv=_sorted(g.recv), tids=_sorted(g.tids))


def bipartite(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, **_: Any) -> ir.Table:
    g = _bipartite_groups(e, p, quiet_nodes)
    expl = (_s(g.payers.length()) + " payers each paid the same " + _s(g.recv.length()) + " recipients ("
            + _s(g.n) + " transfers, " + _money(g.amount) + f") within {p['window_hours']} h")
    # a payer belongs to one group per window, so the first payer and the window identify the group
    return _hits(g, "bipartite", g.payers[0] + ":" + _s(g.bucket), g.payers.concat(g.recv), g.tids[:cap], g.amount, g.first_ts, g.last_ts, expl)


def stack(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, bipartite_params: dict, **_: Any) -> ir.Table:
    """Two bipartite layers: the recipients of the first are exactly the payers of the second."""
    g = _bipartite_groups(e, {**bipartite_params, "window_hours": p["window_hours"]}, quiet_nodes)
    g = g.mutate(payer_sig=g.payers.join(";"))
    a = g.select(a_payers=g.payers, a_recv=g.recv, a_sig=g.sig, a_bucket=g.bucket, a_tids=g.tids,
                 a_amount=g.amount, a_first=g.first_ts)
    b = g.select(b_payer_sig=g.payer_sig, b_recv=g.recv, b_bucket=g.bucket, b_tids=g.tids, b_last=g.last_ts,
                 b_first=g.first_ts)
    j = a.join(b, [a.a_sig == b.b_payer_sig, b.b_bucket >= a.a_bucket, b.b_bucket <= a.a_bucket + 1,
                   b.b_first >= a.a_first])
    expl = (_s(j.a_payers.length()) + " payers paid " + _s(j.a_recv.length()) + " accounts, which all paid the same "
            + _s(j.b_recv.length()) + " accounts (" + _money(j.a_amount) + " in the first layer)")
    return _hits(j, "stack", j.a_payers[0] + ":" + _s(j.a_bucket) + ":" + _s(j.b_bucket),
                 j.a_payers.concat(j.a_recv).concat(j.b_recv), j.a_tids.concat(j.b_tids)[:cap],
                 j.a_amount, j.a_first, j.b_last, expl)


def _relay_edges(e: ir.Table, quiet_nodes: ir.Table) -> ir.Table:
    return _only_quiet(e, "src", quiet_nodes)


def scatter_gather(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, **_: Any) -> ir.Table:
    gap = int(p["max_gap_hours"] * 3600)
    e_first = e.filter(e.amt >= p["min_amount"])
    first = e_first.select(
        s=e_first.src, m=e_first.dst, t1=e_first.tid, s1=e_first.ts_s, ts1=e_first.ts, a1=e_first.amt,
        bucket=_bucket(e_first, p["window_hours"]))
    r = _relay_edges(e, quiet_nodes)
    second = r.select(m2=r.src, t=r.dst, t2=r.tid, s2=r.ts_s, ts2=r.ts, a2=r.amt)
    j = first.join(second, [first.m == second.m2, second.s2 >= first.s1, second.s2 <= first.s1 + gap,
                            second.t != first.s, second.a2 >= first.a1 * p["min_amount_ratio"],
                            second.a2 <= first.a1 * p["max_amount_ratio"]])
    g = j.group_by(["s", "t", "bucket"]).agg(
        n_mid=j.m.nunique(), mids=j.m.collect(), t1s=j.t1.collect(), t2s=j.t2.collect(),
        amount=j.a1.sum(), first_ts=j.ts1.min(), last_ts=j.ts2.max())
    g = g.filter(g.n_mid >= p["min_intermediaries"])
    expl = (g.s + " paid " + _s(g.n_mid) + " intermediaries who each paid " + g.t + " afterwards ("
            + _money(g.amount) + " sent out)")
    return _hits(g, "scatter_gather", g.s + ":" + g.t + ":" + _s(g.bucket),
                 ibis.array([g.s, g.t]).concat(_sorted(g.mids, cap)),
                 _sorted(g.t1s.concat(g.t2s), cap), g.amount, g.first_ts, g.last_ts, expl)


# ---- paths: cycles and layering chains ------------------------------------------------------------

def _grow_paths(e: ir.Table, p: dict, quiet_nodes: ir.Table, *, closing: bool) -> list[ir.Table]:
    """Time-ordered paths, one list entry per length (1..max_length), each level cached on the backend.

    A path is extended by a transfer that leaves its last account after the path's last hop (within
    `max_gap_hours`) with an amount close to the last hop's; accounts are not revisited, except that a
    cycle may return to its origin. Each path follows at most `max_branch` next hops (earliest first).
    """
    gap = int(p["max_gap_hours"] * 3600)
    nxt = _relay_edges(e, quiet_nodes)
    nxt = nxt.select(n_src=nxt.src, n_dst=nxt.dst, n_tid=nxt.tid, n_s=nxt.ts_s, n_ts=nxt.ts, n_amt=nxt.amt)
    start = e.filter(e.amt >= p["min_amount"])
    if closing:  # a cycle's origin must be able to receive, so it must also be quiet enough to relay
        start = _only_quiet(start, "src", quiet_nodes)
    level = start.select(
        origin=start.src, cur=start.dst, first_tid=start.tid, first_ts=start.ts, last_s=start.ts_s,
        last_ts=start.ts, last_amt=start.amt, total=start.amt,
        accts=ibis.array([start.src, start.dst]), tids=ibis.array([start.tid]),
    ).cache()
    levels = [level]
    for _ in range(2, p["max_length"] + 1):
        j = level.join(nxt, [level.cur == nxt.n_src, nxt.n_s > level.last_s, nxt.n_s <= level.last_s + gap,
                             nxt.n_amt >= level.last_amt * p["min_amount_ratio"],
                             nxt.n_amt <= level.last_amt * p["max_amount_ratio"]])
        revisit = j.accts.contains(j.n_dst)
        j = j.filter(~revisit | (j.n_dst == j.origin)) if closing else j.filter(~revisit)
        j = j.mutate(rn=ibis.row_number().over(group_by=[j.tids.join(";")], order_by=[j.n_s, j.n_tid]))
        j = j.filter(j.rn < p["max_branch"])
        level = j.select(
            origin=j.origin, cur=j.n_dst, first_tid=j.first_tid, first_ts=j.first_ts, last_s=j.n_s,
            last_ts=j.n_ts, last_amt=j.n_amt, total=j.total + j.n_amt,
            accts=j.accts.concat(ibis.array([j.n_dst])), tids=j.tids.concat(ibis.array([j.n_tid])),
        ).cache()
        levels.append(level)
        if closing:  # closed cycles end there; only open paths continue
            levels[-1] = level
            level = level.filter(level.cur != level.origin)
    return levels


def cycle(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, **_: Any) -> ir.Table:
    levels = _grow_paths(e, p, quiet_nodes, closing=True)
    parts = []
    for length, lv in enumerate(levels, start=1):
        if length < max(2, p["min_length"]):
            continue
        c = lv.filter(lv.cur == lv.origin)
        accts = c.accts[: length]  # the origin appears again at the end
        expl = (f"{length} transfers took " + _money(c.total / length) + " on average from " + c.origin
                + f" through {length - 1} other account(s) and back, each hop later than the one before")
        parts.append(_hits(c, "cycle", c.tids.join(";"), accts, c.tids,
                           c.total / length, c.first_ts, c.last_ts, expl))
    return _union(parts)


def random_chain(e: ir.Table, p: dict, cap: int, *, quiet_nodes: ir.Table, **_: Any) -> ir.Table:
    """Layering: the longest time-ordered chain from each first transfer, if long enough and open."""
    levels = _grow_paths(e, p, quiet_nodes, closing=False)
    parts = []
    for length, lv in enumerate(levels, start=1):
        if length >= p["min_length"]:
            parts.append(lv.mutate(length=ibis.literal(length)))
    if not parts:
        return _empty_like(e)
    paths = _union(parts)
    # A chain that starts in the middle of a longer chain repeats it: keep chains whose first transfer
    # has no earlier matching hop into its payer, and the longest path from each first transfer.
    gap = int(p["max_gap_hours"] * 3600)
    prev = e.select(p_dst=e.dst, p_s=e.ts_s, p_amt=e.amt)
    firsts = e.select(first_tid=e.tid, f_src=e.src, f_s=e.ts_s, f_amt=e.amt).semi_join(
        paths, e.tid == paths.first_tid)
    continued = firsts.join(prev, [firsts.f_src == prev.p_dst, prev.p_s < firsts.f_s, prev.p_s >= firsts.f_s - gap,
                                   firsts.f_amt >= prev.p_amt * p["min_amount_ratio"],
                                   firsts.f_amt <= prev.p_amt * p["max_amount_ratio"]]).select("first_tid")
    paths = paths.anti_join(continued, "first_tid")
    paths = paths.mutate(rn=ibis.row_number().over(group_by=paths.first_tid,
                                                   order_by=[ibis.desc(paths.length), paths.tids.join(";")]))
    c = paths.filter(paths.rn == 0)
    expl = ("money moved through " + _s(c.length) + " time-ordered transfers from " + c.origin + " to " + c.cur
            + " (" + _money(c.total / c.length) + " on average per hop)")
    return _hits(c, "random_chain", c.first_tid, c.accts, c.tids, c.total / c.length, c.first_ts, c.last_ts, expl)


# ---- all together ---------------------------------------------------------------------------------

def _union(parts: list[ir.Table]) -> ir.Table:
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def _empty_like(e: ir.Table) -> ir.Table:
    z = e.filter(ibis.literal(False))
    return _hits(z, "none", z.tid, ibis.array([z.src]), ibis.array([z.tid]), z.amt, z.ts, z.ts, z.tid)


DETECTORS: dict[str, Callable[..., ir.Table]] = {
    "fan_in": fan_in,
    "fan_out": fan_out,
    "cycle": cycle,
    "bipartite": bipartite,
    "stack": stack,
    "scatter_gather": scatter_gather,
    "gather_scatter": gather_scatter,
    "random_chain": random_chain,
    "rapid_pass_through": rapid_pass_through,
    "structuring": structuring,
}


def detect(transfers: ir.Table, params: dict[str, Any] | None = None,
           only: list[str] | None = None) -> dict[str, ir.Table]:
    """Every typology's hits as an Ibis table (not yet executed), keyed by typology name."""
    params = params or load_params()
    unknown = set(only or []) - set(DETECTORS)
    if unknown:
        raise UserError(f"unknown typologies {sorted(unknown)}; known: {', '.join(DETECTORS)}")
    e = prepare_edges(transfers).cache()
    counts = node_transfer_counts(e)
    quiet = counts.filter(counts.n <= params["max_node_transfers"]).select("acct").cache()
    cap = int(params["max_evidence"])
    out = {}
    for name, fn in DETECTORS.items():
        if only and name not in only:
            continue
        out[name] = fn(e, params[name], cap, quiet_nodes=quiet, bipartite_params=params["bipartite"])
    return out


def detect_all(transfers: ir.Table, params: dict[str, Any] | None = None,
               only: list[str] | None = None) -> ir.Table:
    """All hits in one `typology_hits`-shaped table."""
    return _union(list(detect(transfers, params, only).values()))


def write_hits(eng: Any, name: str, transfers: ir.Table, params: dict[str, Any] | None = None,
               only: list[str] | None = None) -> int:
    """Detect every typology and store all hits as workspace table `name`; returns the number of hits.

    One detector at a time, each into a scratch table, then one UNION ALL in the workspace: run as one
    query, the ten detectors' list aggregates all held memory at once (at 50 M transfers that went past
    DuckDB's 12 GiB limit); one by one the peak is that of the largest.
    """
    parts = detect(transfers, params, only)
    con = eng.ws.con
    scratch = []
    try:
        for typ, expr in parts.items():
            tmp = f"_hits_{name}_{typ}"
            eng.write(tmp, expr)
            scratch.append(tmp)
        union = " UNION ALL ".join(f'SELECT * FROM "{t}"' for t in scratch)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {union}')
    finally:
        for t in scratch:
            con.execute(f'DROP TABLE IF EXISTS "{t}"')
    return eng.ws.count(name)
