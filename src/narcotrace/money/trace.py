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
from datetime import datetime
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

def _query(ws: Workspace, accounts: list[str], *, side: str, after: datetime | None,
           before: datetime | None) -> pd.DataFrame:
    """Transfers whose `side` (from_account | to_account) is one of `accounts`, within the time bounds."""
    frame = pd.DataFrame({"acct": accounts})
    cond = []
    args: list[Any] = []
    if after is not None:
        cond.append("t.timestamp >= ?")
        args.append(after)
    if before is not None:
        cond.append("t.timestamp <= ?")
        args.append(before)
    where = ("WHERE " + " AND ".join(cond)) if cond else ""
    con = ws.con
    con.register("_trace_frontier", frame)
    try:
        return con.execute(f"""
            SELECT t.transfer_id, t.timestamp, t.from_account, t.to_account,
                   coalesce(t.amount_base, t.amount) AS amount, coalesce(t.channel, '') AS channel
            FROM transfers t SEMI JOIN _trace_frontier f ON t.{side} = f.acct
            {where}
            ORDER BY t.timestamp, t.transfer_id
        """, args).df()
    finally:
        con.unregister("_trace_frontier")


def endpoint_kinds(ws: Workspace, accounts: list[str], home_country: str = HOME_COUNTRY) -> dict[str, str]:
    """Accounts among `accounts` where money leaves the traceable system, with why."""
    if not accounts:
        return {}
    con = ws.con
    con.register("_ep_accounts", pd.DataFrame({"acct": accounts}))
    try:
        rows = con.execute("""
            SELECT a.account_id, a.kind, a.country FROM accounts a SEMI JOIN _ep_accounts e ON a.account_id = e.acct
        """).fetchall()
        roles = con.execute("""
            SELECT s.account_id, s.role FROM account_scores s SEMI JOIN _ep_accounts e ON s.account_id = e.acct
            WHERE s.role IN ('exchanger', 'cash_out')
        """).fetchall()
    finally:
        con.unregister("_ep_accounts")
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

def _proportional(lots: list[tuple[float, float, str]], moves: pd.DataFrame, forward: bool) -> list[tuple[str, str, float]]:
    """Spread each traced lot (time key, amount, via transfer) over the account's eligible moves.

    Forward: moves are outgoing transfers later than the lot; backward: incoming transfers earlier.
    Each move's capacity is its amount, shared between lots in time order. Returns (via, move id, amount).
    """
    out = []
    keys = moves["key"].to_numpy()
    remaining = moves["amount"].to_numpy(dtype=float).copy()
    ids = moves["transfer_id"].tolist()
    for key, amount, via in sorted(lots, key=lambda x: x[0], reverse=not forward):
        mask = keys > key if forward else keys < key
        total = remaining[mask].sum()
        if total <= EPS:
            continue
        alloc = min(amount, total)
        idx = mask.nonzero()[0]
        shares = remaining[idx] * (alloc / total)
        remaining[idx] -= shares
        out.extend((via, ids[i], float(s)) for i, s in zip(idx, shares) if s > EPS)
    return out


def _fifo_flows(ins: pd.DataFrame, outs: pd.DataFrame) -> list[tuple[str, str, float]]:
    """Money flows (in transfer, out transfer, amount) through an account that pays out oldest money first."""
    events = sorted([(r.key, 0, r.transfer_id, r.amount) for r in ins.itertuples()]
                    + [(r.key, 1, r.transfer_id, r.amount) for r in outs.itertuples()])
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
          until: datetime | None = None, fifo: bool = False, min_amount: float = 1.0,
          max_frontier: int = 500, home_country: str = HOME_COUNTRY) -> TraceResult:
    """Trace money from (or, backward, into) `account` for up to `hops` hops."""
    import time

    t0 = time.perf_counter()
    if hops < 1:
        raise UserError(f"--hops {hops}: must be at least 1")
    if since and until and since > until:
        raise UserError(f"--since {since} is after --until {until}")
    known = ws.con.execute("SELECT 1 FROM transfers WHERE from_account = ? OR to_account = ? LIMIT 1",
                           [account, account]).fetchone()
    if not known:
        raise UserError(f"account {account}: no transfers in workspace {ws.root}; check the id (see `narcotrace alerts`)")
    forward = not backward
    stay = "stayed in account" if forward else "no earlier money in (origin)"
    res = TraceResult(account, "forward" if forward else "backward", "fifo" if fifo else "proportional",
                      hops, since, until)
    near, far = ("from_account", "to_account") if forward else ("to_account", "from_account")

    first = _query(ws, [account], side=near, after=since, before=until)
    res.start_amount = float(first["amount"].sum())
    # lots[account] = [(time key, amount, via transfer id)] of traced money waiting at that account
    lots: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    seen_in_hop: list[tuple[Any, float, str | None]] = [(r, float(r.amount), None) for r in first.itertuples(index=False)]
    for hop in range(1, hops + 1):
        arrivals: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        for r, attributed, parent in seen_in_hop:
            res.edges.append(Edge(r.transfer_id, r.from_account, r.to_account, r.timestamp.to_pydatetime(),
                                  float(r.amount), attributed, hop, parent))
            target = getattr(r, far)
            arrivals[target].append((r.timestamp.value, attributed, r.transfer_id))
        lots = arrivals
        if not lots:
            break
        # endpoints by what the account is, or by the channel the money arrived through
        stops = endpoint_kinds(ws, list(lots), home_country)
        if forward:
            for r, _, _ in seen_in_hop:
                kind = CHANNEL_ENDPOINTS.get(r.channel)
                if kind and r.to_account not in stops:
                    stops[r.to_account] = kind
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
        # cap the frontier by traced amount; the rest is reported, not silently dropped
        ranked = sorted(lots.items(), key=lambda kv: -sum(a for _, a, _ in kv[1]))
        for acct, v in ranked[max_frontier:]:
            res.stopped["not followed (frontier cap)"] += sum(a for _, a, _ in v)
        lots = dict(ranked[:max_frontier])
        earliest = min(k for v in lots.values() for k, _, _ in v)
        latest = max(k for v in lots.values() for k, _, _ in v)
        moves = _query(ws, list(lots), side=near,
                       after=pd.Timestamp(earliest).to_pydatetime() if forward else since,
                       before=until if forward else pd.Timestamp(latest).to_pydatetime())
        moves["key"] = moves["timestamp"].astype("datetime64[ns]").astype("int64")
        by_acct = dict(tuple(moves.groupby(near, sort=False)))
        if fifo:
            opp = _query(ws, list(lots), side=far, after=since if forward else pd.Timestamp(earliest).to_pydatetime(),
                         before=pd.Timestamp(latest).to_pydatetime() if forward else until)
            opp["key"] = opp["timestamp"].astype("datetime64[ns]").astype("int64")
            opp_by = dict(tuple(opp.groupby(far, sort=False)))
        rows_by_id = {r.transfer_id: r for r in moves.itertuples(index=False)}
        nxt: dict[str, float] = defaultdict(float)
        parents: dict[str, str] = {}
        for acct, acct_lots in lots.items():
            m = by_acct.get(acct)
            traced = sum(a for _, a, _ in acct_lots)
            if m is None or m.empty:
                res.stopped[stay] += traced
                continue
            if fifo:
                other = opp_by.get(acct, m.iloc[:0])
                ins, outs = (other, m) if forward else (m, other)
                flows = _fifo_flows(ins, outs)
                share = {via: a for _, a, via in acct_lots}
                amounts = {tid: float(x) for tid, x in zip(other["transfer_id"], other["amount"])} if len(other) else {}
                alloc = []
                for fin, fout, x in flows:
                    via, move = (fin, fout) if forward else (fout, fin)
                    if via in share and amounts.get(via):
                        alloc.append((via, move, x * share[via] / amounts[via]))
            else:
                alloc = _proportional(acct_lots, m, forward)
            moved = 0.0
            for via, move, x in alloc:
                nxt[move] += x
                parents.setdefault(move, via)
                moved += x
            if traced - moved > EPS:
                res.stopped[stay] += traced - moved
        seen_in_hop = []
        for tid, x in nxt.items():
            if x < min_amount:
                res.stopped["below minimum amount"] += x
                continue
            seen_in_hop.append((rows_by_id[tid], x, parents[tid]))
        if not seen_in_hop:
            break
    res.elapsed_s = time.perf_counter() - t0
    return res


def write_json(result: TraceResult, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
