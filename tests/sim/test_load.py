"""The demo's load step puts every simulated account and transfer into the workspace."""

from __future__ import annotations


def test_load_world(small_world, workspace, con):
    from narcotrace.sim.load import load_world

    out, summary = small_world
    got = load_world(workspace, out)
    assert got["rows quarantined"] == 0
    assert got["transfers in workspace"] == summary.counts["transfers"]
    assert got["accounts in workspace"] >= summary.counts["accounts"]
