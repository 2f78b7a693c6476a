"""The crawler against a small site on 127.0.0.1: robots.txt, scope, depth, redirects, rate, the WARC."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from warcio.archiveiterator import ArchiveIterator

from narcotrace.online.crawl import crawl, crawl_into, site_of, user_agent
from narcotrace.online.sources import RawPost, read_posts


class _Site:
    """A site with robots.txt, a private folder, a redirect, a gzipped page and an off-site link."""

    def __init__(self, pages: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str, float]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                site.requests.append((self.path, self.headers.get("User-Agent", ""), time.monotonic()))
                status, headers, body = site.pages.get(self.path, (404, {"Content-Type": "text/html"},
                                                                   b"<p>not found</p>"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _html(body: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/html; charset=utf-8"}, f"<html><body>{body}</body></html>".encode()


@pytest.fixture
def sites():
    offsite = _Site({"/offsite.html": _html("<p>must not be fetched</p>")})
    pages = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/": _html(f"""<title>Shop</title><p>Мефедрон закладки, оператор @test_shop</p>
            <a href="/a.html">a</a> <a href="/private/secret.html">secret</a> <a href="/redirect">moved</a>
            <a href="/gz.html">gz</a> <a href="http://localhost:{offsite.port}/offsite.html">elsewhere</a>
            <a href="mailto:x@example.kz">mail</a> <a href="/a.html#top">a again</a>"""),
        "/a.html": _html('<p>page a</p><a href="/c.html">c</a>'),
        "/c.html": _html('<p>page c at depth 2</p><a href="/d.html">d</a>'),
        "/d.html": _html("<p>page d at depth 3</p>"),
        "/redirect": (301, {"Location": "/b.html", "Content-Type": "text/html"}, b""),
        "/b.html": _html("<p>page b after a redirect</p>"),
        "/gz.html": (200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
                     gzip.compress("<p>сжатая страница: клады</p>".encode())),
        "/private/secret.html": _html("<p>robots.txt says no</p>"),
    }
    site = _Site(pages)
    yield site, offsite
    site.close()
    offsite.close()


def test_polite_crawl_within_scope_depth_and_robots(sites, tmp_path):
    site, offsite = sites
    base = f"http://127.0.0.1:{site.port}"
    result = crawl(tmp_path, [base + "/"], depth=2, rate=0)
    assert set(site.paths) == {"/robots.txt", "/", "/a.html", "/redirect", "/b.html", "/gz.html", "/c.html"}
    assert site.paths.count("/a.html") == 1  # the #top fragment is the same page
    assert "/private/secret.html" not in site.paths and result.blocked_by_robots == [base + "/private/secret.html"]
    assert "/d.html" not in site.paths and result.too_deep == 1
    assert offsite.requests == [] and result.off_site == {f"http://localhost:{offsite.port}/offsite.html"}
    assert {ua for _, ua, _ in site.requests} == {user_agent()}
    assert user_agent().startswith("narcotrace/") and "(+" in user_agent()
    assert result.warc.parent == tmp_path and result.warc.name.endswith(".warc.gz")


def test_the_warc_holds_every_request_and_response_and_reads_back_as_posts(sites, tmp_path):
    site, _ = sites
    base = f"http://127.0.0.1:{site.port}"
    result = crawl(tmp_path, [base + "/"], depth=2, rate=0)
    with open(result.warc, "rb") as f:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(f)]
    assert records[0][0] == "warcinfo"
    responses = {uri for t, uri in records if t == "response"}
    requests_ = {uri for t, uri in records if t == "request"}
    assert responses == requests_ == {base + p for p in ("/robots.txt", "/", "/a.html", "/redirect", "/b.html",
                                                         "/gz.html", "/c.html")}
    posts = {p.post_id: p for p in read_posts([result.warc]) if isinstance(p, RawPost)}
    assert set(posts) == {base + p for p in ("/", "/a.html", "/b.html", "/gz.html", "/c.html")}
    assert "Мефедрон закладки" in posts[base + "/"].text
    assert posts[base + "/gz.html"].text == "сжатая страница: клады"  # stored gzipped as sent, read decoded
    assert posts[base + "/"].source_format == "warc"


def test_ignore_robots_and_max_pages(sites, tmp_path):
    site, _ = sites
    base = f"http://127.0.0.1:{site.port}"
    result = crawl(tmp_path, [base + "/"], depth=1, rate=0, ignore_robots=True)
    assert "/private/secret.html" in site.paths and "/robots.txt" not in site.paths
    site.requests.clear()
    result = crawl(tmp_path, [base + "/"], depth=3, rate=0, max_pages=2)
    assert len(result.fetched) == 2 and result.stopped_at_max_pages


def test_rate_limit_per_host(sites, tmp_path):
    site, _ = sites
    base = f"http://127.0.0.1:{site.port}"
    crawl(tmp_path, [base + "/a.html"], depth=1, rate=0.3)
    times = [t for _, _, t in site.requests]
    assert len(times) == 3  # robots.txt, a.html, c.html
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.28, gaps


def test_meta_robots_nofollow_is_honoured(tmp_path):
    local = _Site({"/": _html('<meta name="robots" content="noindex, nofollow"><a href="/x.html">x</a>'),
                   "/x.html": _html("<p>x</p>")})
    try:
        result = crawl(tmp_path, [f"http://127.0.0.1:{local.port}/"], depth=2, rate=0)
        assert "/x.html" not in local.paths and result.nofollow == [f"http://127.0.0.1:{local.port}/"]
        crawl(tmp_path, [f"http://127.0.0.1:{local.port}/"], depth=2, rate=0, ignore_robots=True)
        assert "/x.html" in local.paths
    finally:
        local.close()


def test_scope_is_the_registered_domain():
    assert site_of("https://www.shop.example.kz/x") == site_of("http://m.shop.example.kz/") == "example.kz"
    assert site_of("http://127.0.0.1:8080/") == "127.0.0.1"


def test_bad_urls_are_user_errors(tmp_path):
    from narcotrace.errors import UserError

    with pytest.raises(UserError, match="not an http"):
        crawl(tmp_path, ["ftp://example.kz/"])


def test_cli_crawl_into_the_workspace_evidence(sites, tmp_path, run_cli):
    site, _ = sites
    ws_path = tmp_path / "ws"
    r = run_cli("crawl", f"http://127.0.0.1:{site.port}/", "--depth", "1", "--rate", "0", "--no-scan",
                "--workspace", ws_path)
    assert r.exit_code == 0, r.stderr
    assert "robots.txt honoured" in r.stdout and "disallowed by robots.txt: 1" in r.stdout
    warcs = list((ws_path / "evidence").glob("crawl-*.warc.gz"))
    assert len(warcs) == 1 and f"fetched 5 pages into {warcs[0]}" in r.stdout
    from narcotrace.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        action, target = ws.con.execute("SELECT action, target FROM audit_log").fetchone()
    assert (action, target) == ("crawl", str(warcs[0]))


def test_crawl_hands_its_warc_to_the_scanner(sites, workspace, monkeypatch):
    scan = pytest.importorskip("narcotrace.online.scan", reason="the scanner is not in this build yet")
    calls = []
    monkeypatch.setattr(scan, "scan_paths", lambda ws, paths, fmt="auto": calls.append((ws, paths, fmt)) or "ok")
    site, _ = sites
    result, scanned = crawl_into(workspace, [f"http://127.0.0.1:{site.port}/"], depth=0, rate=0)
    assert calls == [(workspace, [result.warc], "warc")] and scanned == "ok"
    calls.clear()
    crawl_into(workspace, [f"http://127.0.0.1:{site.port}/"], depth=0, rate=0, scan=False)
    assert calls == []


def test_crawl_then_scan(sites, workspace):
    scan = pytest.importorskip("narcotrace.online.scan", reason="the scanner is not in this build yet")
    from narcotrace.errors import UserError

    try:
        from narcotrace.online.classify import shipped_model_path

        shipped_model_path()
    except (ImportError, UserError):
        pytest.skip("no post classifier model shipped yet")
    site, _ = sites
    result, report = crawl_into(workspace, [f"http://127.0.0.1:{site.port}/"], depth=2, rate=0)
    stored = workspace.con.execute("SELECT post_id FROM posts WHERE source = ? ORDER BY post_id",
                                   [str(result.warc)]).fetchall()
    base = f"http://127.0.0.1:{site.port}"
    assert [r[0] for r in stored] == sorted(base + p for p in ("/", "/a.html", "/b.html", "/gz.html", "/c.html"))
    handles = workspace.con.execute("SELECT value FROM indicators WHERE kind = 'telegram'").fetchall()
    assert ("test_shop",) in handles
    assert scan.ScanReport is type(report)


def test_missing_robots_allows_and_unreachable_robots_forbids(tmp_path):
    open_site = _Site({"/": _html('<a href="/x.html">x</a>'), "/x.html": _html("<p>x</p>")})
    down = _Site({"/robots.txt": (503, {"Content-Type": "text/plain"}, b"busy"), "/": _html("<p>home</p>")})
    try:
        result = crawl(tmp_path, [f"http://127.0.0.1:{open_site.port}/"], depth=1, rate=0)
        assert len(result.fetched) == 2  # robots.txt 404: everything allowed (RFC 9309)
        result = crawl(tmp_path, [f"http://127.0.0.1:{down.port}/"], depth=1, rate=0)
        assert result.fetched == [] and down.paths == ["/robots.txt"]  # 5xx: nothing allowed
    finally:
        open_site.close()
        down.close()


def test_public_seeds_never_reach_private_addresses(tmp_path, monkeypatch):
    import narcotrace.online.crawl as crawl_module

    local = _Site({"/": _html('<a href="http://intranet.shop.example.kz/admin">admin</a> <a href="/p.html">p</a>'),
                   "/p.html": _html("<p>price list</p>"), "/admin": _html("<p>the analyst's intranet</p>")})
    try:
        # The shop's own DNS points intranet.shop.example.kz at a private address.
        monkeypatch.setattr(crawl_module, "private_address", lambda host: host.startswith("intranet."))
        result = crawl(tmp_path, ["http://shop.example.kz/"], depth=1, rate=0,
                       session=_Forward(f"http://127.0.0.1:{local.port}"))
        assert result.fetched == ["http://shop.example.kz/", "http://shop.example.kz/p.html"]
        assert "/admin" not in local.paths
        assert any("intranet.shop.example.kz resolves to a private" in e for e in result.errors)
    finally:
        local.close()


class _Forward:
    """A requests stand-in that serves every URL from the local site, as if DNS pointed there."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, url, **kw):
        import requests
        from urllib.parse import urlsplit

        return requests.get(self.base + (urlsplit(url).path or "/"), **kw)
