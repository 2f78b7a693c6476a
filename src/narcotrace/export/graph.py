"""GraphML and GEXF (networkx) of the drug channels for Gephi: posts, indicators, accounts, wallets, channels.

Nodes carry `kind` (channel | post | telegram | domain | url | card | phone | btc | tron | ... | account | wallet),
`role` (post label; handle | bot | site | payment for indicators; drop | collector | exchanger | cash_out |
counterparty ... for accounts), `score`, `channel` (the channel ids it belongs to, ';'-joined), `status`
(approved | proposed) and `label`. Edges carry `relation`:
- `posted` channel -> post; `names` post -> indicator; `identifies` indicator -> account;
- `transfers` account -> account, aggregated over the exported transfers (`amount` in KZT, `count`,
  `drug_amount` of it that was drug payments or drug money forwarded), with the channel(s) as attribute.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]

from narcotrace.errors import UserError
from narcotrace.export.findings import Findings, load_findings
from narcotrace.workspace import Workspace

SITE_KINDS = ("domain", "url", "onion", "email")
PAYMENT_KINDS = ("card", "phone", "iban", "btc", "eth", "tron", "ltc", "xmr")


def _node(g: nx.DiGraph, node: str, *, kind: str, role: str, label: str, score: float | None, channels: list[str],
          status: str) -> None:
    # Gephi wants one type per attribute: scores are floats (-1 = none), lists are ';'-joined strings.
    g.add_node(node, kind=kind, role=role, label=label[:80], score=float(score) if score is not None else -1.0,
               channel=";".join(sorted(set(channels))), status=status)


def build_graph(f: Findings) -> nx.DiGraph:
    g = nx.DiGraph(name="narcotrace drug channels")
    for ch in f.channels.values():
        _node(g, f"channel:{ch.id}", kind="channel", role="shop", label=ch.name, score=ch.confidence,
              channels=[ch.id], status=ch.status)
    for p in f.posts.values():
        _node(g, f"post:{p.id}", kind="post", role=p.label, label=(p.text or "").strip().split("\n")[0] or p.id,
              score=p.score, channels=p.channels, status=p.status)
        for cid in p.channels:
            if cid in f.channels:
                g.add_edge(f"channel:{cid}", f"post:{p.id}", relation="posted", channel=cid, amount=0.0, count=1,
                           drug_amount=0.0)
    for ind in f.indicators.values():
        role = ("bot" if ind.is_bot else "handle") if ind.kind == "telegram" else \
            "site" if ind.kind in SITE_KINDS else "payment" if ind.kind in PAYMENT_KINDS else ind.kind
        _node(g, ind.id, kind=ind.kind, role=role, label=ind.value, score=None, channels=ind.channels,
              status=ind.status)
        for pid in ind.post_ids:
            if pid in f.posts:
                g.add_edge(f"post:{pid}", ind.id, relation="names", channel=";".join(f.posts[pid].channels),
                           amount=0.0, count=1, drug_amount=0.0)
    for acc in f.accounts.values():
        kind = "wallet" if acc.kind == "wallet" or acc.id.split(":", 1)[0] in PAYMENT_KINDS else "account"
        _node(g, f"account:{acc.id}", kind=kind, role=acc.role, label=acc.holder_name or acc.id, score=acc.score,
              channels=list(acc.channels), status=acc.status)
    for ident, acc_id in f.identifies:
        if ident in g and f"account:{acc_id}" in g:
            g.add_edge(ident, f"account:{acc_id}", relation="identifies",
                       channel=";".join(f.accounts[acc_id].channels), amount=0.0, count=1, drug_amount=0.0)
    flows: dict[tuple[str, str], dict] = defaultdict(lambda: {"amount": 0.0, "count": 0, "drug_amount": 0.0,
                                                              "channels": set()})
    for t in f.transfers.values():
        if t.from_account not in f.accounts or t.to_account not in f.accounts:
            continue
        e = flows[(t.from_account, t.to_account)]
        amount = float(t.amount_base if t.amount_base is not None else t.amount or 0)
        e["amount"] += amount
        e["count"] += 1
        if t.kind in ("drug_payment", "forward"):
            e["drug_amount"] += amount
        e["channels"].update(t.drug_channels)
    for (src, dst), e in flows.items():
        g.add_edge(f"account:{src}", f"account:{dst}", relation="transfers", amount=round(e["amount"], 2),
                   count=e["count"], drug_amount=round(e["drug_amount"], 2), channel=";".join(sorted(e["channels"])))
    return g


def _write(ws: Workspace, out: Path, proposed: bool, channel: str | None, writer) -> int:
    g = build_graph(load_findings(ws, proposed=proposed, channel=channel))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        writer(g, out)
    except OSError as e:
        raise UserError(f"--out {out}: cannot write ({e.strerror})") from e
    return g.number_of_nodes() + g.number_of_edges()


def export_graphml(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None = None) -> int:
    """GraphML for Gephi, yEd, Cytoscape; returns nodes + edges written."""
    return _write(ws, out, proposed, channel, lambda g, p: nx.write_graphml(g, p, encoding="utf-8"))


def export_gexf(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None = None) -> int:
    """GEXF 1.2 for Gephi; returns nodes + edges written."""
    return _write(ws, out, proposed, channel, lambda g, p: nx.write_gexf(g, p, encoding="utf-8", version="1.2draft"))
