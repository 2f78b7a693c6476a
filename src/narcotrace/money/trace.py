"""Follow money hop by hop in time order, forward (where it went) or backward (where it came from).

Money that reached an account continues only along transfers that left it *after* it arrived (backward:
only transfers that came in *before* it left). Amounts are attributed proportionally by default: money
arriving at an account is spread over the account's later outgoing transfers in proportion to their size,
never more than they carried, and each transfer's capacity is shared between all traced arrivals in
arrival order. With FIFO, the account is a queue: outgoing money is paid from the oldest money in.

The trail stops at endpoints: cash-out points, exchangers, crypto and foreign banks (from accounts.kind
and country, the last analyze's suspected roles, or the channel the money arrived by). Each hop is one
DuckDB query on the frontier accounts, so the cost grows with the frontier, which is capped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from narcotrace.errors import UserError
from narcotrace.workspace import Workspace

HOME_COUNTRY = "KZ"
KIND_ENDPOINTS = {"exchanger": "exchanger", "cash": "cash_out", "foreign": "foreign", "wallet": "crypto"}
ROLE_ENDPOINTS = {"exchanger": "exchanger", "cash_out": "cash_out"}
CHANNEL_ENDPOINTS = {"atm": "cash_out", "atm_withdrawal": "cash_out", "cash": "cash_out", "cash_out": "cash_out",
                     "cash_withdrawal": "cash_out", "crypto": "crypto", "crypto_transfer": "crypto", "swift": "foreign"}
EPS = 1e-6


@dataclass
class Edge:
    transfer_id: str
    from_account: str
    to_account: str
    timestamp: datetime
    amount: float
    attributed: float
    hop: int
    parent: str | None  # transfer the attributed money came through (None for the first hop)


@dataclass
class TraceResult:
    """The trail: transfers followed with the traced amount on each, and where the money ended."""

    root: str
    direction: str  # forward | backward
    method: str  # proportional | fifo
    hops: int
    since: datetime | None
    until: datetime | None
    start_amount: float = 0.0
    edges: list[Edge] = field(default_factory=list)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)  # account -> {kind, amount}
    stopped: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # why money stopped -> amount
    elapsed_s: float = 0.0

    @property
    def nodes(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {self.root: {"account_id": self.root, "hop": 0, "amount": self.start_amount}}
        for e in self.edges:
            acct = e.to_account if self.direction == "forward" else e.from_account
            n = out.setdefault(acct, {"account_id": acct, "hop": e.hop, "amount": 0.0})
            n["hop"] = min(n["hop"], e.hop)
            n["amount"] += e.attributed
        for acct, ep in self.endpoints.items():
            out[acct]["endpoint"] = ep["kind"]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root, "direction": self.direction, "method": self.method, "hops": self.hops,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "start_amount": round(self.start_amount, 2),
            "nodes": [{**n, "amount": round(n["amount"], 2)} for n in self.nodes.values()],
            "edges": [{"transfer_id": e.transfer_id, "from": e.from_account, "to": e.to_account,
                       "timestamp": e.timestamp.isoformat(), "amount": round(e.amount, 2),
                       "attributed": round(e.attributed, 2), "hop": e.hop, "parent": e.parent} for e in self.edges],
            "endpoints": [{"account_id": a, "kind": v["kind"], "amount": round(v["amount"], 2)}
                          for a, v in sorted(self.endpoints.items(), key=lambda kv: -kv[1]["amount"])],
            "summary": {k: round(v, 2) for k, v in sorted(self.summary().items(), key=lambda kv: -kv[1])},
            "elapsed_s": round(self.elapsed_s, 4),
        }

    def summary(self) -> dict[str, float]:
        """How much ended where: each endpoint kind, plus money that stopped for another reason."""
        out: dict[str, float] = defaultdict(float)
        for v in self.endpoints.values():
            out[v["kind"]] += v["amount"]
        for k, v in self.stopped.items():
            out[k] += v
        return dict(out)

    def render(self, max_children: int = 8) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.tree import Tree

        arrow = "→" if self.direction == "forward" else "←"
        tree = Tree(f"[bold]{self.root}[/] {arrow} {self.start_amount:,.2f} traced "
                    f"({self.direction}, {self.method}, up to {self.hops} hops)")
        children: dict[str | None, list[Edge]] = defaultdict(list)
        for e in self.edges:
            children[e.parent].append(e)

        def add(branch: Tree, parent: str | None, depth: int) -> None:
            kids = sorted(children.get(parent, []), key=lambda e: -e.attributed)
            for e in kids[:max_children]:
                other = e.to_account if self.direction == "forward" else e.from_account
                ep = self.endpoints.get(other)
                tag = f" [red]■ {ep['kind']}[/]" if ep and not children.get(e.transfer_id) else ""
                node = branch.add(f"{arrow} [cyan]{other}[/] {e.attributed:,.2f} of {e.amount:,.2f} "
                                  f"[dim]{e.timestamp:%Y-%m-%d %H:%M} {e.transfer_id}[/]{tag}")
                if depth < 50:
                    add(node, e.transfer_id, depth + 1)
            if len(kids) > max_children:
                rest = sum(e.attributed for e in kids[max_children:])
                branch.add(f"[dim]… {len(kids) - max_children} more transfers, {rest:,.2f}[/]")

        add(tree, None, 0)
        table = Table(title="where the money ended")
        table.add_column("endpoint")
        table.add_column("amount", justify="right")
        table.add_column("share", justify="right")
        for kind, amount in sorted(self.summary().items(), key=lambda kv: -kv[1]):
            share = amount / self.start_amount if self.start_amount else 0.0
            table.add_row(kind, f"{amount:,.2f}", f"{share:.1%}")
        top = Table(title="endpoint accounts")
        top.add_column("account")
        top.add_column("kind")
        top.add_column("amount", justify="right")
        for acct, v in sorted(self.endpoints.items(), key=lambda kv: -kv[1]["amount"])[:15]:
            top.add_row(acct, v["kind"], f"{v['amount']:,.2f}")
        return Group(tree, table, top)


# ---- data access ---------------------------------------------------------------------------------

ADJACENCY = {"from_account": ("trace_out", "to_account"), "to_account": ("trace_in", "from_account")}


def ensure_adjacency(ws: Workspace) -> None:
    """Copies of transfers sorted by paying (trace_out) and receiving (trace_in) account.

    Sorted by account, DuckDB's per-row-group min/max lets a lookup of a few hundred accounts skip most of
    the table, which a scan of `transfers` (in arrival order) cannot. Rebuilt when transfers change.
    """
    stamp = ":".join(str(x) for x in ws.con.execute(
        "SELECT count(*), max(timestamp), max(source_row) FROM transfers").fetchone())
    row = ws.con.execute("SELECT value FROM meta WHERE key = 'trace_adjacency'").fetchone()
    if row and row[0] == stamp:
        return
    for side, (table, other) in ADJACENCY.items():
        ws.con.execute(f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT {side} AS acct, {other} AS other, transfer_id, epoch_us(timestamp) AS ts_us,
                   coalesce(amount_base, amount) AS amount, coalesce(channel, '') AS channel
            FROM transfers ORDER BY acct, ts_us, transfer_id
        """)
    ws.con.execute("INSERT OR REPLACE INTO meta VALUES ('trace_adjacency', ?)", [stamp])


@dataclass
class Moves:
    """Transfers of some accounts on one side, as arrays sorted by (account, time)."""

    acct: Any
    other: Any
    tid: Any
    ts: Any  # microseconds since the epoch
    amount: Any
    channel: Any

    def __len__(self) -> int:
        return len(self.tid)

    def groups(self) -> dict[str, tuple[int, int]]:
        """account -> (start, end) slice of its rows."""
        if not len(self):
            return {}
        import numpy as np

        change = np.flatnonzero(self.acct[1:] != self.acct[:-1]) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(self)]])
        return {self.acct[a]: (int(a), int(b)) for a, b in zip(starts, ends)}


def _point_lookups(ws: Workspace) -> int:
    """Up to how many accounts a hop looks up one by one rather than with one scan of the table.

    Measured on DuckDB 1.5: a point lookup costs ~1.4 ms, a scan with an IN list ~65 ms per million rows.
    """
    row = ws.con.execute("SELECT value FROM meta WHERE key = 'trace_adjacency'").fetchone()
    rows = int(row[0].split(":")[0]) if row else 0
    return max(8, rows // 20_000)


def _us(t: datetime | None) -> int | None:
    return None if t is None else int(pd.Timestamp(t).value // 1000)


def _query(ws: Workspace, accounts: list[str], *, side: str, after_us: int | None, before_us: int | None) -> Moves:
    """Transfers whose `side` (from_account | to_account) is one of `accounts`, within the time bounds."""
    import numpy as np

    table, _ = ADJACENCY[side]
    cond: list[str] = []
    bounds: list[Any] = []
    if after_us is not None:
        cond.append("ts_us >= ?")
        bounds.append(after_us)
    if before_us is not None:
        cond.append("ts_us <= ?")
        bounds.append(before_us)
    cols = "SELECT acct, other, transfer_id, ts_us, amount, channel FROM " + table
    if len(accounts) <= _point_lookups(ws):
        # One equality per account: each skips to its rows by the sorted table's min/max (about a
        # millisecond each whatever the table size), where an IN list of many accounts scans the table.
        one = f"{cols} WHERE {' AND '.join(['acct = ?', *cond])}"
        sql = f"SELECT * FROM ({' UNION ALL '.join([one] * len(accounts))}) ORDER BY acct, ts_us, transfer_id"
        args = [x for a in accounts for x in (a, *bounds)]
    else:
        where = ' AND '.join([f"acct IN ({', '.join('?' * len(accounts))})", *cond])
        sql = f"{cols} WHERE {where} ORDER BY acct, ts_us, transfer_id"
        args = [*accounts, *bounds]
    res = ws.con.execute(sql, args).fetchnumpy()
    return Moves(*(np.asarray(res[c]) for c in ("acct", "other", "transfer_id", "ts_us", "amount", "channel")))


def endpoint_kinds(ws: Workspace, accounts: list[str], home_country: str = HOME_COUNTRY) -> dict[str, str]:
    """Accounts among `accounts` where money leaves the traceable system, with why."""
    if not accounts:
        return {}
    marks = ", ".join("?" * len(accounts))
    rows = ws.con.execute(f"SELECT account_id, kind, country FROM accounts WHERE account_id IN ({marks})",
                          accounts).fetchall()
    roles = ws.con.execute(f"SELECT account_id, role FROM account_scores WHERE account_id IN ({marks}) "
                           "AND role IN ('exchanger', 'cash_out')", accounts).fetchall()
    out: dict[str, str] = {}
    for acct, role in roles:
        out[acct] = ROLE_ENDPOINTS[role]
    for acct, kind, country in rows:
        if kind in KIND_ENDPOINTS:
            out[acct] = KIND_ENDPOINTS[kind]
        elif country and home_country and country.upper() != home_country:
            out[acct] = "foreign"
    return out


# ---- attribution ---------------------------------------------------------------------------------

def _proportional(lots: list[tuple[int, float, int]], keys: Any, amounts: Any, forward: bool) -> list[tuple[int, int, float]]:
    """Spread each traced lot (time, amount, via edge) over the account's eligible moves (rows of one slice).

    Forward: moves are outgoing transfers later than the lot; backward: incoming transfers earlier.
    Each move's capacity is its amount, shared between lots in time order. Returns (via, move row, amount).
    """
    import numpy as np

    out = []
    remaining = amounts.astype(float).copy()
    for key, amount, via in sorted(lots, key=lambda x: x[0], reverse=not forward):
        # keys are sorted: the eligible moves are one contiguous run
        if forward:
            lo, hi = int(np.searchsorted(keys, key, side="right")), len(keys)
        else:
            lo, hi = 0, int(np.searchsorted(keys, key, side="left"))
        if lo >= hi:
            continue
        part = remaining[lo:hi]
        total = part.sum()
        if total <= EPS:
            continue
        shares = part * (min(amount, total) / total)
        remaining[lo:hi] -= shares
        out.extend((via, lo + i, float(x)) for i, x in enumerate(shares) if x > EPS)
    return out


def _fifo_flows(ins: list[tuple[int, str, float]], outs: list[tuple[int, str, float]]) -> list[tuple[str, str, float]]:
    """Money flows (in transfer, out transfer, amount) through an account that pays out oldest money first."""
    events = sorted([(k, 0, tid, a) for k, tid, a in ins] + [(k, 1, tid, a) for k, tid, a in outs])
    queue: list[list[Any]] = []  # [in transfer id, amount left]
    head = 0
    flows = []
    for _, is_out, tid, amount in events:
        if not is_out:
            queue.append([tid, float(amount)])
            continue
        need = float(amount)
        while need > EPS and head < len(queue):
            take = min(need, queue[head][1])
            flows.append((queue[head][0], tid, take))
            queue[head][1] -= take
            need -= take
            if queue[head][1] <= EPS:
                head += 1
    return flows


# ---- the trace ------------------------------------------------------------------------------------

def trace(ws: Workspace, account: str, *, backward: bool = False, hops: int = 6, since: datetime | None = None,
          until: datetime | None = None, fifo: bool = False, min_amount: float = 1.0, min_share: float = 0.001,
          max_frontier: int = 200, home_country: str = HOME_COUNTRY) -> TraceResult:
    """Trace money from (or, backward, into) `account` for up to `hops` hops.

    Amounts below `min_amount` or below `min_share` of the starting amount are not followed further, and
    at most `max_frontier` accounts (the ones holding most traced money) are followed per hop; what is
    not followed is reported in the summary, never dropped silently.
    """
    import time

    t0 = time.perf_counter()
    if hops < 1:
        raise UserError(f"--hops {hops}: must be at least 1")
    if since and until and since > until:
        raise UserError(f"--since {since} is after --until {until}")
    ensure_adjacency(ws)
    known = ws.con.execute("SELECT 1 FROM trace_out WHERE acct = ? UNION ALL SELECT 1 FROM trace_in WHERE acct = ? LIMIT 1",
                           [account, account]).fetchone()
    if not known:
        raise UserError(f"account {account}: no transfers in workspace {ws.root}; check the id (see `narcotrace alerts`)")
    forward = not backward
    stay = "stayed in account" if forward else "no earlier money in (origin)"
    res = TraceResult(account, "forward" if forward else "backward", "fifo" if fifo else "proportional",
                      hops, since, until)
    near, far = ("from_account", "to_account") if forward else ("to_account", "from_account")
    since_us, until_us = _us(since), _us(until)

    first = _query(ws, [account], side=near, after_us=since_us, before_us=until_us)
    res.start_amount = float(first.amount.sum())
    floor = max(min_amount, min_share * res.start_amount)
    # the transfers followed in this hop: (moves, row, traced amount, parent transfer id)
    current: list[tuple[Moves, int, float, str | None]] = [(first, i, float(first.amount[i]), None) for i in range(len(first))]
    for hop in range(1, hops + 1):
        lots: dict[str, list[tuple[int, float, int]]] = defaultdict(list)
        for m, i, attributed, parent in current:
            acct = str(m.acct[i])
            other = str(m.other[i])
            frm, to = (acct, other) if forward else (other, acct)
            res.edges.append(Edge(str(m.tid[i]), frm, to, datetime.fromtimestamp(int(m.ts[i]) / 1e6, UTC).replace(tzinfo=None),
                                  float(m.amount[i]), attributed, hop, parent))
            lots[other].append((int(m.ts[i]), attributed, len(res.edges) - 1))
        stops = endpoint_kinds(ws, list(lots), home_country)
        if forward:  # money that arrived as cash withdrawal, crypto purchase or SWIFT has left the system
            for m, i, _, _ in current:
                kind = CHANNEL_ENDPOINTS.get(str(m.channel[i]))
                if kind and str(m.other[i]) not in stops:
                    stops[str(m.other[i])] = kind
        for acct in list(lots):
            if acct in stops and acct != account:
                amount = sum(a for _, a, _ in lots.pop(acct))
                ep = res.endpoints.setdefault(acct, {"kind": stops[acct], "amount": 0.0})
                ep["amount"] += amount
        if not lots:
            break
        if hop == hops:
            res.stopped["still moving at hop limit"] += sum(a for v in lots.values() for _, a, _ in v)
            break
        ranked = sorted(lots.items(), key=lambda kv: -sum(a for _, a, _ in kv[1]))
        for _, v in ranked[max_frontier:]:
            res.stopped["not followed (frontier cap)"] += sum(a for _, a, _ in v)
        lots = dict(ranked[:max_frontier])
        earliest = min(k for v in lots.values() for k, _, _ in v)
        latest = max(k for v in lots.values() for k, _, _ in v)
        moves = _query(ws, list(lots), side=near, after_us=earliest if forward else since_us,
                       before_us=until_us if forward else latest)
        groups = moves.groups()
        if fifo:
            opp = _query(ws, list(lots), side=far, after_us=since_us if forward else earliest,
                         before_us=latest if forward else until_us)
            opp_groups = opp.groups()
        nxt: dict[int, float] = defaultdict(float)
        parents: dict[int, str] = {}
        for acct, acct_lots in lots.items():
            traced = sum(a for _, a, _ in acct_lots)
            span = groups.get(acct)
            if span is None:
                res.stopped[stay] += traced
                continue
            a, b = span
            if fifo:
                oa, ob = opp_groups.get(acct, (0, 0))
                mine = [(int(moves.ts[j]), j, float(moves.amount[j])) for j in range(a, b)]
                theirs = [(int(opp.ts[j]), -1 - j, float(opp.amount[j])) for j in range(oa, ob)]
                ins, outs = (theirs, mine) if forward else (mine, theirs)
                flows = _fifo_flows(ins, outs)
                # the traced lots are the opposite-side transfers they arrived by
                by_tid = {res.edges[via].transfer_id: (via, x) for _, x, via in acct_lots}
                alloc = []
                for fin, fout, x in flows:
                    src_key, move = (fin, fout) if forward else (fout, fin)
                    if src_key >= 0:
                        continue  # the lot side is the opposite table (negative keys)
                    tid = str(opp.tid[-1 - src_key])
                    if tid in by_tid:
                        via, lot_amount = by_tid[tid]
                        full = float(opp.amount[-1 - src_key])
                        alloc.append((via, move, x * lot_amount / full))
            else:
                rel = _proportional(acct_lots, moves.ts[a:b], moves.amount[a:b], forward)
                alloc = [(via, a + j, x) for via, j, x in rel]
            moved = 0.0
            for via, j, x in alloc:
                nxt[j] += x
                parents.setdefault(j, res.edges[via].transfer_id)
                moved += x
            if traced - moved > EPS:
                res.stopped[stay] += traced - moved
        current = []
        for j, x in nxt.items():
            if x < floor:
                res.stopped["below minimum amount"] += x
                continue
            current.append((moves, j, x, parents[j]))
        if not current:
            break
    res.elapsed_s = time.perf_counter() - t0
    return res


def write_json(result: TraceResult, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
