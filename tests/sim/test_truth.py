"""Ground truth agrees with the transfers: drops are advertised, buyers pay the drop of the ad they saw
while it was active, money moves down the route, and every laundering label has its shape."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx


def test_every_drop_is_named_in_an_ad_of_its_shop(con):
    # a drop is named by card or phone in at least one post of its own shop (indicators truth)
    missing = con.execute("""
        SELECT d.channel_id, d.account_id FROM ds d
        WHERE NOT EXISTS (
            SELECT 1 FROM ti JOIN tp ON ti.post_id = tp.post_id
            WHERE tp.channel_id = d.channel_id
              AND (ti.canonical_id = 'card:' || d.card OR ti.canonical_id = 'phone:' || d.phone))""").fetchall()
    assert missing == []
    assert con.execute("SELECT count(*) FROM ds").fetchone()[0] >= 6


def test_every_drug_payment_reaches_an_active_drop_named_in_the_ad(con):
    rows = con.execute("""
        SELECT t.transfer_id, t.timestamp, t.to_account, tt.channel_id, tt.post_id, t.channel
        FROM t JOIN tt USING (transfer_id) WHERE tt.leg = 'buyer_to_drop'""").fetchall()
    assert len(rows) > 50
    spells = defaultdict(list)
    for ch, acc, s, e in con.execute("SELECT channel_id, account_id, start, \"end\" FROM ds").fetchall():
        spells[(ch, acc)].append((s, e))
    post_date = dict(con.execute("SELECT id, CAST(date AS TIMESTAMPTZ) AT TIME ZONE 'UTC' FROM posts").fetchall())
    post_shop = dict(con.execute("SELECT post_id, channel_id FROM tp").fetchall())
    named = defaultdict(set)
    for pid, cid in con.execute("SELECT post_id, canonical_id FROM ti").fetchall():
        named[pid].add(cid)
    ident = {}
    for acc, card, phone in con.execute("SELECT account_id, card, phone FROM a").fetchall():
        ident[acc] = {x for x in (card and "card:" + card, phone and "phone:" + phone) if x}
    for tid, ts, to, ch, pid, channel in rows:
        assert post_shop[pid] == ch, tid
        assert ts >= post_date[pid], (tid, ts, post_date[pid])
        assert any(s <= ts < e for s, e in spells[(ch, to)]), (tid, "drop not active")
        assert ident[to] & named[pid], (tid, "the ad does not name this drop")
        assert channel in ("card_p2p", "phone_p2p")


def test_drops_forward_to_their_shops_collectors_minus_commission(con):
    rows = con.execute("""
        SELECT tt.channel_id, t.from_account, t.to_account FROM t JOIN tt USING (transfer_id)
        WHERE tt.leg = 'drop_to_collector'""").fetchall()
    assert rows
    drops = {(r[0], r[1]) for r in con.execute("SELECT channel_id, account_id FROM ds").fetchall()}
    collectors = {(r[0], c) for r in con.execute("SELECT channel_id, collector_accounts FROM ch").fetchall()
                  for c in r[1]}
    for ch, frm, to in rows:
        assert (ch, frm) in drops and (ch, to) in collectors
    # per drop: forwarded 97-99 % of what buyers paid at most
    for acc, paid, fwd in con.execute("""
            SELECT p.to_account, p.s, f.s FROM
              (SELECT to_account, sum(amount_base) s FROM t JOIN tt USING (transfer_id)
               WHERE leg = 'buyer_to_drop' GROUP BY 1) p
            JOIN (SELECT from_account, sum(amount_base) s FROM t JOIN tt USING (transfer_id)
                  WHERE leg = 'drop_to_collector' GROUP BY 1) f ON p.to_account = f.from_account""").fetchall():
        assert fwd <= paid * 0.99 + 1, acc


def test_two_tier_collectors_stay_inside_their_shop(con):
    collectors = {(r[0], c) for r in con.execute("SELECT channel_id, collector_accounts FROM ch").fetchall()
                  for c in r[1]}
    for ch, frm, to in con.execute("""SELECT tt.channel_id, t.from_account, t.to_account FROM t JOIN tt USING (transfer_id)
                                      WHERE tt.leg = 'collector_to_collector'""").fetchall():
        assert (ch, frm) in collectors and (ch, to) in collectors and frm != to


def test_collectors_feed_exchangers_cash_and_shop_wallets(con):
    legs = dict(con.execute("SELECT leg, count(*) FROM tt WHERE is_drug GROUP BY 1").fetchall())
    for leg in ("buyer_to_drop", "drop_to_collector", "collector_to_exchanger", "exchanger_to_wallet",
                "collector_to_cash"):
        assert legs.get(leg, 0) > 0, leg
    # USDT goes to the shop's own wallets
    bad = con.execute("""
        SELECT count(*) FROM t JOIN tt USING (transfer_id) JOIN ch USING (channel_id)
        WHERE leg = 'exchanger_to_wallet' AND NOT list_contains(ch.wallets, t.to_account)""").fetchone()[0]
    assert bad == 0
    assert con.execute("SELECT count(*) FROM t JOIN tt USING (transfer_id) WHERE leg = 'exchanger_to_wallet' "
                       "AND currency <> 'USDT'").fetchone()[0] == 0


def test_exchangers_also_serve_legitimate_customers(con):
    n = con.execute("""
        SELECT count(*) FROM t JOIN tt USING (transfer_id) JOIN a ON t.to_account = a.account_id
        WHERE a.kind = 'exchanger' AND NOT tt.is_drug""").fetchone()[0]
    assert n > 0


def test_roles_in_truth_accounts(con):
    bad = con.execute("""
        SELECT count(*) FROM ds JOIN ta USING (account_id)
        WHERE ta.role <> 'drop' OR NOT list_contains(ta.channel_ids, ds.channel_id)""").fetchone()[0]
    assert bad == 0
    roles = {r[0] for r in con.execute("SELECT DISTINCT role FROM ta").fetchall()}
    assert {"normal", "merchant", "drop", "collector", "exchanger", "cash_out", "laundering"} <= roles
    looks = {r[0] for r in con.execute("SELECT DISTINCT lookalike FROM ta WHERE lookalike IS NOT NULL").fetchall()}
    assert {"tutor", "small_seller", "charity", "salary_passthrough", "new_account"} <= looks


def _check_shape(kind: str, edges: list[tuple]) -> None:
    g = nx.MultiDiGraph()
    for ts, a, b in edges:
        g.add_edge(a, b, ts=ts)
    outd = {n: g.out_degree(n) for n in g}
    ind = {n: g.in_degree(n) for n in g}
    sources = [n for n in g if ind[n] == 0]
    sinks = [n for n in g if outd[n] == 0]
    if kind == "fan-out":
        assert len(sources) == 1 and outd[sources[0]] >= 3 and len(g) == outd[sources[0]] + 1
    elif kind == "fan-in":
        assert len(sinks) == 1 and ind[sinks[0]] >= 3 and len(g) == ind[sinks[0]] + 1
    elif kind == "cycle":
        ordered = sorted(edges)
        assert ordered[0][1] == ordered[-1][2], "does not return to the start"
        for (_, _, b), (_, a2, _) in zip(ordered, ordered[1:]):
            assert b == a2, "not a chain in time order"
        assert len(g) == len(edges) >= 3
    elif kind == "random":
        ordered = sorted(edges)
        for (_, _, b), (_, a2, _) in zip(ordered, ordered[1:]):
            assert b == a2
        assert len(g) == len(edges) + 1
    elif kind == "bipartite":
        left = {a for _, a, _ in edges}
        right = {b for _, _, b in edges}
        assert not left & right and len(left) >= 2 and len(right) >= 2
    elif kind == "stack":
        mids = [n for n in g if ind[n] and outd[n]]
        assert len(sources) >= 2 and len(mids) >= 2 and len(sinks) >= 2
        # every middle account pays on after it was paid
        for m in mids:
            first_in = min(ts for ts, _, b in edges if b == m)
            assert all(ts > first_in for ts, a, _ in edges if a == m)
    elif kind == "scatter-gather":
        assert len(sources) == 1 and len(sinks) == 1
        mids = [n for n in g if n not in (sources[0], sinks[0])]
        assert len(mids) >= 2 and all(ind[m] == 1 and outd[m] == 1 for m in mids)
    elif kind == "gather-scatter":
        hubs = [n for n in g if ind[n] >= 2 and outd[n] >= 2]
        assert len(hubs) == 1 and len(g) == ind[hubs[0]] + outd[hubs[0]] + 1
    else:
        raise AssertionError(kind)


def test_every_laundering_label_matches_its_shape(con):
    rows = con.execute("""
        SELECT tt.pattern, tt.pattern_id, t.timestamp, t.from_account, t.to_account
        FROM t JOIN tt USING (transfer_id) WHERE tt.leg = 'pattern' ORDER BY t.timestamp, t.transfer_id""").fetchall()
    by_id = defaultdict(list)
    kinds = {}
    for kind, pid, ts, a, b in rows:
        by_id[pid].append((ts, a, b))
        assert kinds.setdefault(pid, kind) == kind
    assert len(set(kinds.values())) == 8
    for pid, edges in by_id.items():
        try:
            _check_shape(kinds[pid], edges)
        except AssertionError as e:
            raise AssertionError(f"{pid} ({kinds[pid]}): {e}") from e


def test_shape_checker_rejects_a_wrong_label():
    fan_out = [(1, "s", "a"), (2, "s", "b"), (3, "s", "c")]
    _check_shape("fan-out", fan_out)
    for wrong in ("fan-in", "cycle", "scatter-gather"):
        try:
            _check_shape(wrong, fan_out)
        except AssertionError:
            continue
        raise AssertionError(f"fan-out accepted as {wrong}")


def test_placement_funds_the_sources(con):
    n = con.execute("""SELECT count(*) FROM tt JOIN t USING (transfer_id)
                       WHERE leg = 'placement' AND channel <> 'cash_deposit'""").fetchone()[0]
    assert n == 0
    assert con.execute("SELECT count(*) FROM tt WHERE leg = 'placement'").fetchone()[0] > 0


def test_look_alikes_are_paid_by_as_many_strangers_as_drops(con):
    # "many different people pay this card" must not single out drops: tutors and home sellers get as many
    rows = dict(con.execute("""
        SELECT CASE WHEN ta.role = 'drop' THEN 'drop' ELSE ta.lookalike END AS grp, median(n)
        FROM (SELECT to_account, count(DISTINCT from_account) n FROM t
              WHERE channel IN ('card_p2p', 'phone_p2p') GROUP BY 1) x
        JOIN ta ON ta.account_id = x.to_account
        WHERE ta.role = 'drop' OR ta.lookalike IN ('tutor', 'small_seller')
        GROUP BY 1""").fetchall())
    assert rows["tutor"] >= 0.5 * rows["drop"] and rows["small_seller"] >= 0.5 * rows["drop"], rows


def test_crypto_drug_payments_go_to_a_wallet_named_in_the_ad(con):
    rows = con.execute("""
        SELECT t.transfer_id, t.timestamp, t.to_account, t.currency, tt.channel_id, tt.post_id
        FROM t JOIN tt USING (transfer_id) WHERE tt.leg = 'buyer_to_wallet'""").fetchall()
    assert rows, "no buyer paid a shop's wallet"
    post_date = dict(con.execute("SELECT id, CAST(date AS TIMESTAMPTZ) AT TIME ZONE 'UTC' FROM posts").fetchall())
    wallets = {r[0]: set(r[1]) for r in con.execute("SELECT channel_id, wallets FROM ch").fetchall()}
    named = {(r[0], r[1]) for r in con.execute("SELECT post_id, canonical_id FROM ti").fetchall()}
    for tid, ts, to, ccy, ch, pid in rows:
        assert to in wallets[ch] and (pid, to) in named, tid
        assert ts >= post_date[pid] and ccy == "USDT", tid
