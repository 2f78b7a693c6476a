"""The report in headless Chromium, as a person opens it: figures shown, charts drawn, the channel graphs
populated by the inlined script, no script from a post run, nothing blocked or fetched from the network."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from report_world import A, B, build_world


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: scripts/setup.sh installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return found


def _run(tmp_path: Path, html: Path, *mode: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-default-apps", "--disable-extensions", f"--user-data-dir={profile}",
           # nothing outside this machine resolves: a page that needed the network would show it
           "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--window-size=1400,2400",
           "--virtual-time-budget=5000", *mode, html.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def report(workspace, tmp_path):
    from narcotrace.report.builder import build_report

    build_world(workspace)
    return build_report(workspace, tmp_path / "report.html")


def test_what_a_person_sees(report, tmp_path):
    done = _run(tmp_path, report, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    doc = HTMLParser(done.stdout)
    body = doc.body
    assert body.attributes.get("data-graphs-drawn") == "2", "both channel graphs drawn"
    assert body.attributes.get("data-csp-violations") == "0", "nothing blocked by the page's policy"
    assert "data-pwned" not in body.attributes, "a post's markup ran as code"
    figures = {f.attributes["data-figure"]: f.text(separator=" ") for f in doc.css(".figure")}
    assert "drug channels found" in figures["channels"] and " 2 " in f" {figures['channels']} "
    assert "348,000 KZT" in figures["volume"]
    assert len(doc.css("svg.chart")) == 4 and len(doc.css("svg.chart rect.bar")) > 8
    for graph in doc.css(".graph[data-graph]"):
        assert int(graph.attributes["data-nodes"]) >= 8, graph.attributes
        assert int(graph.attributes["data-edges"]) >= 7
        assert graph.css("canvas"), "Cytoscape draws on canvases inside the container"
        assert "data-error" not in graph.attributes
    assert {g.attributes["data-channel"] for g in doc.css(".graph")} == {A, B}


def test_screenshot_is_drawn(report, tmp_path):
    shot = tmp_path / "shot.png"
    done = _run(tmp_path, report, f"--screenshot={shot}")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 2400)
    assert len(data) > 60_000, "a page with charts and graphs, not a blank one"
