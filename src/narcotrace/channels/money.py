"""The money side of a channel: the drops its ads name, the drug payments they took, and where that money
went next (collectors, then exchangers and cash-out points), attributed proportionally in time order.

- Drug payments: payments into a drop (or a wallet the ads name) by a channel people use to pay people, of at most
  `max_payment_kzt`, within `pay_window_hours` after an ad naming the drop; a payer who also paid the drop
  outside every ad window, or who ever received money from it, is a contact of the drop's holder, not a buyer;
  an exchanger or cash point paying in is the shop cashing out, and the drop holder's own other account
  moving money in is no buyer either.
- Forwarding: money that arrived at an account leaves with the account's next outgoing transfers, first in,
  first out (as `narcotrace trace --fifo`), but only within `forward_hours` after it arrived, so a drop's
  ordinary spending weeks later takes nothing; each account down the chain is credited with its share of
  the channel's money, and so on to where it leaves. (Spreading each arrival proportionally over all later
  transfers lends early money to later forwards and strands the last payments of a drop spell.)
- Collectors: accounts that got at least `collector_min_kzt` of drug money from the channel's drops, and
  either at least `collector_min_share` of it or at least one *sweep* (a transfer that emptied a drop of at
  least 80 % of the drug money waiting in it). Exchangers, cash points, crypto and foreign accounts are endpoints:
  money stops there, and they are never collectors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from narcotrace.channels.link import CRYPTO_KINDS, PAYMENT_KINDS, CommonIdentifiers
from narcotrace.channels.shops import Shop
from narcotrace.money.trace import HOME_COUNTRY
from narcotrace.workspace import Workspace

EPS = 1e-6
# where money leaves the traceable system, by what the account is (accounts.kind)
KIND_ROLES = {"exchanger": "exchanger", "cash": "cash_out", "foreign": "cash_out", "wallet": "wallet"}


@dataclass
class Member:
    """An account in a channel with its role, score, the money through it and why it is there."""

    account_id: str
    role: str  # drop | wallet | collector | exchanger | cash_out
    score: float
    volume: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChannelMoney:
    """What the money says about one shop."""

    members: list[Member] = field(default_factory=list)
    volume: float = 0.0  # drug payments into its drops (KZT)
    payments: int = 0
    payers: int = 0
    first_payment: datetime | None = None
    last_payment: datetime | None = None
    forwarded: float = 0.0  # attributed to collectors
    cashed_out: float = 0.0  # attributed to exchangers and cash-out points


def named_accounts(shop: Shop, links: pd.DataFrame, common: CommonIdentifiers) -> dict[str, list[str]]:
    """account_id -> identifiers naming it in the shop's ads (payment and crypto identifiers, not common)."""
    mine = {i for i in shop.identifiers if i.split(":", 1)[0] in PAYMENT_KINDS + CRYPTO_KINDS and i not in common}
    out: dict[str, list[str]] = defaultdict(list)
    for ident, account in zip(links["identifier"], links["account_id"]):
        if ident in mine:
            out[account].append(ident)
    return dict(out)


def _windows(shops: list[Shop], named: dict[str, dict[str, list[str]]], post_dates: dict[str, datetime | None],
             hours: float) -> pd.DataFrame:
    """One row per (shop, account, ad): the time after the ad when buyers pay the drop it names."""
    rows = []
    span = timedelta(hours=hours)
    for shop in shops:
        for account, idents in named[shop.shop_id].items():
            posts = sorted({p for i in idents for p in shop.posts_of.get(i, [])})
            for post in posts:
                d = post_dates.get(post)
                if d is None:  # an ad without a date: the shop's whole life
                    lo = shop.first_post or datetime(1970, 1, 1)
                    hi = (shop.last_post or datetime(2100, 1, 1)) + span
                else:
                    lo, hi = d, d + span
                rows.append((shop.shop_id, account, post, lo, hi))
    return pd.DataFrame(rows, columns=["shop_id", "account_id", "post_id", "lo", "hi"])


def drug_payments(ws: Workspace, windows: pd.DataFrame, p: dict[str, Any]) -> pd.DataFrame:
    """Payments into drops inside ad windows, by buyers (see the module docstring)."""
    cols = ["shop_id", "account_id", "transfer_id", "timestamp", "from_account", "amount", "post_id"]
    if windows.empty:
        return pd.DataFrame(columns=cols)
    chans = ", ".join("'" + c.replace("'", "''") + "'" for c in p["payment_channels"])
    con = ws.con
    con.register("_ch_windows", windows)
    try:
        return con.execute(f"""
            WITH drops AS (SELECT DISTINCT account_id FROM _ch_windows),
            incoming AS (
                SELECT t.transfer_id, t.timestamp, t.from_account, t.to_account,
                       coalesce(t.amount_base, t.amount) AS amount, t.channel
                FROM transfers t SEMI JOIN drops d ON t.to_account = d.account_id),
            inside AS (
                SELECT w.shop_id, w.account_id, i.*, min(w.post_id) AS post_id
                FROM incoming i JOIN _ch_windows w
                  ON i.to_account = w.account_id AND i.timestamp >= w.lo AND i.timestamp <= w.hi
                GROUP BY ALL),
            contacts AS (  -- paid the drop outside every ad window, or got money from it
                SELECT DISTINCT i.to_account AS account_id, i.from_account AS payer FROM incoming i
                WHERE NOT EXISTS (SELECT 1 FROM inside x WHERE x.transfer_id = i.transfer_id)
                UNION
                SELECT DISTINCT t.from_account, t.to_account FROM transfers t SEMI JOIN drops d ON t.from_account = d.account_id)
            SELECT x.shop_id, x.account_id, x.transfer_id, x.timestamp, x.from_account, x.amount, x.post_id
            FROM inside x LEFT JOIN accounts pa ON pa.account_id = x.from_account
                          LEFT JOIN accounts da ON da.account_id = x.account_id
            WHERE (x.channel IS NULL OR x.channel IN ({chans})) AND x.amount <= {float(p['max_payment_kzt'])}
              AND coalesce(pa.kind, '') NOT IN ('exchanger', 'cash')  -- the shop cashing out, not a buyer
              AND (pa.holder_id IS NULL OR da.holder_id IS NULL OR pa.holder_id <> da.holder_id)  -- own money
              AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = x.account_id AND c.payer = x.from_account)
            ORDER BY x.shop_id, x.timestamp, x.transfer_id""").df()
    finally:
        con.unregister("_ch_windows")


def outgoing(ws: Workspace, accounts: list[str], since: datetime, until: datetime) -> pd.DataFrame:
    """Transfers leaving `accounts` between two times, in time order."""
    con = ws.con
    con.register("_ch_accounts", pd.DataFrame({"account_id": sorted(set(accounts))}))
    try:
        return con.execute("""
            SELECT t.transfer_id, t.timestamp, t.from_account, t.to_account,
                   coalesce(t.amount_base, t.amount) AS amount, coalesce(t.channel, '') AS channel
            FROM transfers t SEMI JOIN _ch_accounts a ON t.from_account = a.account_id
            WHERE t.timestamp >= ? AND t.timestamp <= ?
            ORDER BY t.timestamp, t.transfer_id""", [since, until]).df()
    finally:
        con.unregister("_ch_accounts")


def spread(lots: list[tuple[pd.Timestamp, float]], moves: pd.DataFrame, horizon: timedelta
           ) -> dict[str, tuple[float, bool]]:
    """First in, first out: each outgoing transfer, in time order, carries the oldest traced money that
    arrived before it and not more than `horizon` earlier. Returns transfer_id -> (amount carried, sweep),
    where a sweep carries at least 80 % of the traced money waiting at that moment (a drop emptying itself
    to its collector, not a holder's everyday payment)."""
    out: dict[str, tuple[float, bool]] = {}
    if moves.empty or not lots:
        return out
    queue = [[ts, float(amount)] for ts, amount in sorted(lots)]
    head = 0
    for tid, ts, amount in zip(moves["transfer_id"], moves["timestamp"], moves["amount"]):
        while head < len(queue) and (queue[head][1] <= EPS or queue[head][0] < ts - horizon):
            head += 1  # spent, or waited too long: it stayed
        waiting = [lot for lot in queue[head:] if lot[0] < ts]
        pending = sum(lot[1] for lot in waiting if lot[0] >= ts - horizon)
        need, carried = float(amount), 0.0
        for lot in waiting:
            if lot[0] < ts - horizon or lot[1] <= EPS:
                continue
            take = min(need, lot[1])
            lot[1] -= take
            need -= take
            carried += take
            if need <= EPS:
                break
        if carried > EPS:
            out[tid] = (carried, carried >= 0.8 * pending)
    return out


def _forward(ws: Workspace, lots_by_account: dict[str, list[tuple[pd.Timestamp, float]]], horizon: timedelta,
             prefetched: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One hop: where the money waiting at each account went (transfer, from, to, channel, attributed, sweep).
    `prefetched`: outgoing transfers by account, already read for every shop at once."""
    cols = ["transfer_id", "timestamp", "from_account", "to_account", "channel", "amount", "attributed", "sweep"]
    lots_by_account = {a: v for a, v in lots_by_account.items() if v}
    if not lots_by_account:
        return pd.DataFrame(columns=cols)
    if prefetched is not None:
        groups = [(a, prefetched[a]) for a in sorted(lots_by_account) if a in prefetched]
    else:
        since = min(t for v in lots_by_account.values() for t, _ in v)
        until = max(t for v in lots_by_account.values() for t, _ in v) + horizon
        moves = outgoing(ws, list(lots_by_account), since.to_pydatetime(), until.to_pydatetime())
        groups = list(moves.groupby("from_account", sort=True))
    rows = []
    for account, m in groups:
        got = spread(lots_by_account.get(account, []), m.reset_index(drop=True), horizon)
        for r in m.itertuples(index=False):
            if r.transfer_id in got:
                rows.append((r.transfer_id, r.timestamp, r.from_account, r.to_account, r.channel, float(r.amount),
                             *got[r.transfer_id]))
    return pd.DataFrame(rows, columns=cols)


def _endpoint_roles(flows: pd.DataFrame, kinds: dict[str, tuple[str | None, str | None]], p: dict[str, Any]
                    ) -> dict[str, str]:
    """Recipients where money leaves the traceable system, with their channel role: by the account's kind or
    country, else by the channel the money left through. (The money pillar's suspected roles are not used
    here: a rules-only `analyze` calls many busy private accounts exchangers.)"""
    roles: dict[str, str] = {}
    for to, chan in zip(flows["to_account"], flows["channel"]):
        kind, country = kinds.get(to, (None, None))
        if kind in KIND_ROLES:
            roles[to] = KIND_ROLES[kind]
        elif country and country.upper() != HOME_COUNTRY:
            roles[to] = "cash_out"
        if to not in roles and chan in p["endpoint_channels"]:
            roles[to] = p["endpoint_channels"][chan]
    return roles


def _hubs(ws: Workspace, accounts: list[str], min_payers: int) -> dict[str, str | None]:
    """Accounts paid by at least `min_payers` different payers (an exchanger or a big merchant when the
    registry does not say what the account is), with the money pillar's suspected role where it has one."""
    if not accounts:
        return {}
    con = ws.con
    con.register("_ch_hub", pd.DataFrame({"account_id": sorted(set(accounts))}))
    try:
        rows = con.execute(f"""
            SELECT t.to_account, any_value(s.role) FROM transfers t SEMI JOIN _ch_hub h ON t.to_account = h.account_id
            LEFT JOIN account_scores s ON s.account_id = t.to_account
            GROUP BY 1 HAVING count(DISTINCT t.from_account) >= {int(min_payers)}""").fetchall()
    finally:
        con.unregister("_ch_hub")
    return dict(rows)


def money_roles(ws: Workspace, accounts: list[str]) -> dict[str, tuple[str, float]]:
    """The money pillar's suspected role and score of these accounts (from the last `analyze`), for evidence."""
    if not accounts:
        return {}
    con = ws.con
    con.register("_ch_roles", pd.DataFrame({"account_id": sorted(set(accounts))}))
    try:
        return {a: (r, sc) for a, r, sc in con.execute(
            "SELECT s.account_id, s.role, s.score FROM account_scores s SEMI JOIN _ch_roles USING (account_id)"
        ).fetchall()}
    finally:
        con.unregister("_ch_roles")


def follow_money(ws: Workspace, shops: list[Shop], links: pd.DataFrame, common: CommonIdentifiers,
                 p: dict[str, Any], post_dates: dict[str, datetime | None]) -> dict[str, ChannelMoney]:
    """The money side of every shop."""
    named = {s.shop_id: named_accounts(s, links, common) for s in shops}
    windows = _windows(shops, named, post_dates, float(p["pay_window_hours"]))
    pays = drug_payments(ws, windows, p)
    kinds = {a: (k, c) for a, k, c in ws.con.execute("SELECT account_id, kind, country FROM accounts").fetchall()
             } if shops else {}
    business = {a for (a,) in ws.con.execute("SELECT account_id FROM accounts WHERE holder_kind = 'business'"
                                             ).fetchall()} if shops else set()
    horizon = timedelta(hours=float(p["forward_hours"]))
    result: dict[str, ChannelMoney] = {}
    pays_by_shop = dict(tuple(pays.groupby("shop_id", sort=False))) if len(pays) else {}
    # the drops' outgoing transfers, read once for every shop (one scan of the transfers, not one per shop)
    from_drops: dict[str, pd.DataFrame] = {}
    if len(pays):
        moves = outgoing(ws, sorted(set(pays["account_id"])), pays["timestamp"].min().to_pydatetime(),
                         (pays["timestamp"].max() + horizon).to_pydatetime())
        from_drops = {a: g.reset_index(drop=True) for a, g in moves.groupby("from_account", sort=True)}
    for shop in shops:
        cm = ChannelMoney()
        result[shop.shop_id] = cm
        sp = pays_by_shop.get(shop.shop_id, pays.iloc[:0])
        cm.volume = float(sp["amount"].sum())
        cm.payments = len(sp)
        cm.payers = int(sp["from_account"].nunique())
        if len(sp):
            cm.first_payment = sp["timestamp"].min().to_pydatetime()
            cm.last_payment = sp["timestamp"].max().to_pydatetime()
        # drops and wallets named in the ads
        per_drop = {a: g for a, g in sp.groupby("account_id")} if len(sp) else {}
        for account, idents in sorted(named[shop.shop_id].items()):
            g = per_drop.get(account)
            n_payers = int(g["from_account"].nunique()) if g is not None else 0
            vol = float(g["amount"].sum()) if g is not None else 0.0
            is_wallet = kinds.get(account, (None,))[0] == "wallet" or account.split(":", 1)[0] in CRYPTO_KINDS
            posts = sorted({q for i in idents for q in shop.posts_of.get(i, [])})
            cm.members.append(Member(
                account, "wallet" if is_wallet else "drop",
                round(0.5 + 0.5 * min(1.0, n_payers / 5), 3) if not is_wallet else 0.9, vol,
                {"identifiers": sorted(idents), "post_ids": posts[:50], "n_posts": len(posts), "payments": len(g)
                 if g is not None else 0, "payers": n_payers,
                 "payment_ids": sorted(g["transfer_id"])[:50] if g is not None else []}))
        if not len(sp):
            continue
        # hop 1: from the drops
        lots = defaultdict(list)
        wallets = {m.account_id for m in cm.members if m.role == "wallet"}
        for r in sp.itertuples(index=False):
            if r.account_id not in wallets:  # a wallet's money is already where it leaves the system
                lots[r.account_id].append((r.timestamp, float(r.amount)))
        hop1 = _forward(ws, lots, horizon, from_drops)
        drops = set(lots)
        ends = _endpoint_roles(hop1, kinds, p)
        unknown = [a for a in set(hop1["to_account"]) if a not in ends and kinds.get(a, (None,))[0] is None]
        hubs = _hubs(ws, unknown, int(p["hub_min_payers"]))
        ends.update({a: r for a, r in hubs.items() if r in ("exchanger", "cash_out")})
        got: dict[str, list[Any]] = defaultdict(lambda: [0.0, set(), [], [], 0])
        for r in hop1.itertuples(index=False):
            if r.to_account in drops:
                continue
            g = got[r.to_account]
            g[0] += r.attributed
            g[1].add(r.from_account)
            g[2].append(r.transfer_id)
            g[3].append((r.timestamp, r.attributed))
            g[4] += bool(r.sweep) and r.attributed >= p["collector_min_kzt"]
        collectors: dict[str, list[tuple[pd.Timestamp, float]]] = {}
        endpoint_in: dict[str, list[Any]] = defaultdict(lambda: [0.0, []])
        for account, (amount, via, tids, arrivals, sweeps) in sorted(got.items()):
            if account in ends:
                endpoint_in[account][0] += amount
                endpoint_in[account][1] += tids
                continue
            share = amount / cm.volume
            # a collector takes a real share of the channel's money, or at least one sweep of a drop
            if (share < p["collector_min_share"] and not sweeps) or amount < p["collector_min_kzt"] \
                    or account in business or account in hubs:
                continue
            collectors[account] = arrivals
            cm.forwarded += amount
            cm.members.append(Member(account, "collector", round(min(1.0, 0.5 + share + 0.1 * (len(via) - 1)), 3),
                                     amount, {"from_drops": sorted(via), "share_of_drug_money": round(share, 4), "sweeps": sweeps,
                                              "transfer_ids": sorted(tids)[:50], "transfers": len(tids)}))
        # hop 2: from the collectors to where the money leaves
        hop2 = _forward(ws, collectors, horizon)
        ends.update(_endpoint_roles(hop2, kinds, p))
        for r in hop2.itertuples(index=False):  # sweeps do not matter here: endpoints are known by kind
            if r.to_account in ends:
                endpoint_in[r.to_account][0] += r.attributed
                endpoint_in[r.to_account][1].append(r.transfer_id)
        total = sum(v[0] for v in endpoint_in.values())
        for account, (amount, tids) in sorted(endpoint_in.items()):
            share = amount / max(cm.forwarded, cm.volume * 0.5, EPS)
            if share < p["endpoint_min_share"]:
                continue
            cm.cashed_out += amount
            role = ends[account]
            cm.members.append(Member(account, role, round(min(1.0, 0.5 + share), 3), amount,
                                     {"share_of_forwarded": round(share, 4), "transfer_ids": sorted(tids)[:50],
                                      "transfers": len(tids), "endpoint_total": round(total, 2)}))
    roles = money_roles(ws, [m.account_id for cm in result.values() for m in cm.members])
    for cm in result.values():
        for m in cm.members:
            if m.account_id in roles:
                m.evidence["money_role"], m.evidence["money_score"] = roles[m.account_id][0], round(roles[m.account_id][1], 3)
    return result
