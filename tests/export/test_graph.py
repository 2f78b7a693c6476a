"""GraphML and GEXF export: read back with networkx; nodes, edges and their attributes for Gephi."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from report_world import A, A_COLLECTOR, A_DROP, A_DROP_CARD, B, TRON  # noqa: E402


@pytest.mark.parametrize("fmt, read", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_graph_reads_back_with_nodes_edges_and_attributes(run_cli, ws_path, tmp_path, fmt, read):
    out = tmp_path / f"g.{fmt}"
    r = run_cli("export", "--format", fmt, "--proposed", "--out", out, "--workspace", ws_path)
    assert r.exit_code == 0, r.stderr
    g = read(out)
    assert g.is_directed()
    nodes = dict(g.nodes(data=True))
    assert nodes[f"channel:{A}"]["kind"] == "channel" and nodes[f"channel:{A}"]["label"] == "Snow Fox <b>"
    assert nodes["post:a1"]["kind"] == "post" and nodes["post:a1"]["role"] == "sale"
    assert nodes["post:a1"]["channel"] == A and nodes["post:a1"]["status"] == "proposed"
    assert nodes["post:a0"]["status"] == "approved"
    assert nodes["telegram:snowfox_bot"]["role"] == "bot" and nodes["telegram:snowfox_kz"]["role"] == "handle"
    assert nodes[f"account:{A_DROP}"]["role"] == "drop" and float(nodes[f"account:{A_DROP}"]["score"]) == pytest.approx(0.93)
    assert nodes[f"account:{A_COLLECTOR}"]["role"] == "collector"
    assert nodes[f"account:tron:{TRON}"]["kind"] == "wallet" and nodes[f"account:tron:{TRON}"]["channel"] == B
    edges = {(u, v): d for u, v, d in g.edges(data=True)}
    assert edges[(f"channel:{A}", "post:a0")]["relation"] == "posted"
    assert edges[("post:a0", f"card:{A_DROP_CARD}")]["relation"] == "names"
    assert edges[(f"card:{A_DROP_CARD}", f"account:{A_DROP}")]["relation"] == "identifies"
    flow = edges[(f"account:{A_DROP}", f"account:{A_COLLECTOR}")]
    assert flow["relation"] == "transfers" and int(flow["count"]) == 4
    assert float(flow["amount"]) == pytest.approx(160_000) and float(flow["drug_amount"]) == pytest.approx(160_000)
    assert flow["channel"] == A
    into_drop = [d for (u, v), d in edges.items() if v == f"account:{A_DROP}" and d["relation"] == "transfers"]
    assert sum(int(d["count"]) for d in into_drop) == 8


def test_channel_option_keeps_one_channel(run_cli, ws_path, tmp_path):
    out = tmp_path / "b.graphml"
    assert run_cli("export", "--format", "graphml", "--proposed", "--channel", B, "--out", out,
                   "--workspace", ws_path).exit_code == 0
    g = nx.read_graphml(out)
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert kinds.count("channel") == 1 and f"channel:{B}" in g and f"account:{A_DROP}" not in g
