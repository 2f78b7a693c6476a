"""The HTML report as a file: one self-contained page, escaped posts, the figures, charts and graph data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from report_world import A, A_DROP, B, HOSTILE


def _report(run_cli, ws_path, out, *args) -> HTMLParser:
    r = run_cli("report", "--out", out, "--workspace", ws_path, *args)
    assert r.exit_code == 0, r.stderr + r.stdout
    return HTMLParser(Path(out).read_text(encoding="utf-8"))


def test_report_is_one_self_contained_file(run_cli, ws_path, tmp_path):
    doc = _report(run_cli, ws_path, tmp_path / "r.html")
    for node in doc.css("script[src], link[href], img[src], iframe, object, embed, source[src]"):
        pytest.fail(f"external resource: {node.html[:120]}")
    csp = doc.css_first('meta[http-equiv="Content-Security-Policy"]').attributes["content"]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert len([s for s in doc.css("script") if s.attributes.get("type") != "application/json"]) == 2


def test_hostile_posts_stay_text(run_cli, ws_path, tmp_path):
    out = tmp_path / "r.html"
    doc = _report(run_cli, ws_path, out)
    html = out.read_text(encoding="utf-8")
    assert "<img src=x" not in html and '<script>document.body.setAttribute("data-pwned"' not in html
    post = doc.css_first('tr[data-post="a1"] .post-text')
    assert HOSTILE in post.text()  # shown to the analyst as it was written
    assert post.css_first("img") is None and post.css_first("script") is None
    # the channel named "Snow Fox <b>" is text too
    assert any(h.text().startswith("Snow Fox <b>") for h in doc.css("section.channel > h2"))
    assert not doc.css("section.channel > h2 > b")


def test_figures_charts_graphs_and_evidence(run_cli, ws_path, tmp_path):
    doc = _report(run_cli, ws_path, tmp_path / "r.html")
    figures = {f.attributes["data-figure"]: f.css_first(".value").text() for f in doc.css(".figure")}
    assert figures["posts"] == "10"
    assert figures["channels"] == "2"
    assert figures["freezing"] == "3"  # two drops and the wallet an ad names
    assert figures["volume"] == "348,000 KZT"
    charts = {s.attributes["data-chart"]: s for s in doc.css("svg.chart")}
    assert set(charts) == {"Ads per day", "Drug payments per day (KZT)", "Drug money by channel (KZT)",
                           "Drug money by city (KZT)"}
    assert len(charts["Drug money by channel (KZT)"].css("rect.bar")) == 2
    assert sum(1 for _ in charts["Ads per day"].css("rect.bar")) >= 4
    cities = [t.text() for t in charts["Drug money by city (KZT)"].css("text")]
    assert "Almaty" in cities and "Astana" in cities
    graphs = doc.css(".graph[data-graph]")
    assert [g.attributes["data-channel"] for g in graphs] == [B, A]  # by drug money
    data = json.loads(doc.css_first("#" + graphs[1].attributes["data-graph"]).text())
    roles = {n["role"] for n in data["nodes"]}
    assert {"shop", "handle", "bot", "site", "payment", "buyers", "drop", "collector", "exchanger", "cash_out"} <= roles
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    assert {"source": f"card:4400430000000011", "target": f"acc:{A_DROP}"}.items() <= next(
        e for e in data["edges"] if e["target"] == f"acc:{A_DROP}" and e["source"].startswith("card:")).items()
    # evidence: highlighted terms and indicators, account rows with transfer ids
    a0 = doc.css_first('tr[data-post="a0"]')
    assert [m.text() for m in a0.css("mark.term")][:2] == ["меф", "клад"]
    assert "@snowfox_kz" not in [m.text() for m in a0.css("mark.indicator")]  # indicator spans are the values
    assert "snowfox_kz" in [m.text() for m in a0.css("mark.indicator")]
    rows = [r for r in doc.css(f"#channel-{A} table.accounts tbody tr")]
    assert rows[0].css_first("td").text().startswith(A_DROP)
    assert "t0001" in rows[0].text()


def test_channel_option_and_audit(run_cli, ws_path, tmp_path):
    doc = _report(run_cli, ws_path, tmp_path / "b.html", "--channel", B)
    assert [s.attributes["id"] for s in doc.css("section.channel")] == [f"channel-{B}"]
    figures = {f.attributes["data-figure"]: f.css_first(".value").text() for f in doc.css(".figure")}
    assert figures["posts"] == "3"
    r = run_cli("report", "--out", tmp_path / "x.html", "--workspace", ws_path, "--channel", "nope")
    assert r.exit_code == 1 and "--channel nope" in r.stderr
    from narcotrace.workspace import Workspace

    with Workspace.open(ws_path, create=False) as ws:
        details = [json.loads(d) for (d,) in ws.con.execute(
            "SELECT details FROM audit_log WHERE action = 'report' ORDER BY \"at\"").fetchall()]
    assert [d["channel"] for d in details] == [B]


def test_empty_workspace_gives_a_report_that_says_what_to_run(run_cli, tmp_path):
    from narcotrace.workspace import Workspace

    Workspace.open(tmp_path / "empty").close()
    doc = _report(run_cli, tmp_path / "empty", tmp_path / "e.html")
    assert "narcotrace channels" in doc.body.text()
