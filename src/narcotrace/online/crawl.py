"""A polite crawler: robots.txt, an identifying user agent, a per-host rate limit, same-site scope and a depth
limit; every request and response is kept in a gzipped WARC in the workspace's evidence folder."""

from __future__ import annotations

import io
import os
import time
import urllib.robotparser
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from narcotrace import __version__
from narcotrace.errors import UserError
from narcotrace.online.blocklist import registered_domain
from narcotrace.online.sources.html import decode_page, page_text

DEFAULT_CONTACT = "https://github.com/narcotrace/narcotrace"
MAX_PAGE_BYTES = 10 << 20
_HTML = ("text/html", "application/xhtml+xml")


def user_agent() -> str:
    """`narcotrace/<version> (+contact)`: site owners can see who crawls and reach them ($NARCOTRACE_CONTACT)."""
    return f"narcotrace/{__version__} (+{os.environ.get('NARCOTRACE_CONTACT') or DEFAULT_CONTACT})"


def private_address(host: str) -> bool:
    """Whether a host name resolves to a loopback, private or link-local address (or does not resolve)."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False  # the fetch will fail and say why
    return any(not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global for info in infos)


def site_of(url: str) -> str:
    """The scope of a URL: its registered domain (shop.kz for www.shop.kz), or the host for IPs and localhost."""
    host = (urlsplit(url).hostname or "").lower()
    return registered_domain(host) or host


@dataclass
class CrawlResult:
    """What a crawl did: the WARC it wrote and why pages were or were not fetched."""

    warc: Path
    fetched: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    blocked_by_robots: list[str] = field(default_factory=list)
    off_site: set[str] = field(default_factory=set)
    too_deep: int = 0
    nofollow: list[str] = field(default_factory=list)  # pages whose links robots meta tags say not to follow
    errors: list[str] = field(default_factory=list)
    stopped_at_max_pages: bool = False

    def lines(self) -> list[str]:
        out = [f"fetched {len(self.fetched):,} pages into {self.warc}"]
        if self.blocked_by_robots:
            out.append(f"not fetched, disallowed by robots.txt: {len(self.blocked_by_robots):,} "
                       f"({', '.join(self.blocked_by_robots[:5])}{' ...' if len(self.blocked_by_robots) > 5 else ''})")
        if self.off_site:
            out.append(f"not followed, off-site: {len(self.off_site):,} links")
        if self.nofollow:
            out.append(f"links not followed, the page says nofollow: {len(self.nofollow):,} pages")
        if self.too_deep:
            out.append(f"not followed, beyond --depth: {self.too_deep:,} links")
        if self.stopped_at_max_pages:
            out.append("stopped at --max-pages")
        out.extend(f"error: {e}" for e in self.errors)
        return out


class _Robots:
    """robots.txt per host, fetched once with our user agent (and archived), read with urllib.robotparser."""

    def __init__(self, fetch: Callable[[str], tuple[int, bytes] | None], ignore: bool) -> None:
        self._fetch = fetch
        self._ignore = ignore
        self._parsers: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def _parser(self, url: str) -> urllib.robotparser.RobotFileParser | None:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._parsers:
            rp = urllib.robotparser.RobotFileParser(key + "/robots.txt")
            got = self._fetch(key + "/robots.txt")
            if got is None or got[0] >= 500:
                rp.parse(["User-agent: *", "Disallow: /"])  # RFC 9309: unreachable -> assume all disallowed
            elif got[0] >= 400:
                rp.parse([])  # RFC 9309: no robots.txt -> everything is allowed
            else:
                rp.parse(decode_page(got[1])[0].splitlines())
            self._parsers[key] = rp
        return self._parsers[key]

    def allowed(self, url: str) -> bool:
        if self._ignore:
            return True
        rp = self._parser(url)
        return rp is None or rp.can_fetch(user_agent(), url)

    def delay(self, url: str) -> float:
        if self._ignore:
            return 0.0
        rp = self._parser(url)
        d = rp.crawl_delay(user_agent()) if rp is not None else None
        return float(d or 0)


class _Archive:
    """The WARC being written: a warcinfo record, then a request and a response record per fetch."""

    def __init__(self, path: Path, seeds: Sequence[str], ignore_robots: bool) -> None:
        self.path = path
        self._fh = open(path, "wb")
        self._writer = WARCWriter(self._fh, gzip=True)
        info = self._writer.create_warcinfo_record(path.name, {
            "software": f"narcotrace/{__version__} (warcio)",
            "http-header-user-agent": user_agent(),
            "robots": "ignore" if ignore_robots else "obey",
            "description": "narcotrace crawl of " + " ".join(seeds),
            "format": "WARC File Format 1.1",
        })
        self._writer.write_record(info)

    def record(self, url: str, request_headers: dict[str, str], response: requests.Response, body: bytes,
               truncated: bool, fetched_at: datetime) -> None:
        date = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = StatusAndHeaders(f"GET {path} HTTP/1.1", list(request_headers.items()),
                                       protocol="", is_http_request=True)
        req = self._writer.create_warc_record(url, "request", http_headers=req_headers,
                                              warc_headers_dict={"WARC-Date": date})
        # Transfer-Encoding is already undone by the HTTP client; Content-Encoding (gzip) is kept as sent.
        headers = [(k, v) for k, v in response.raw.headers.items() if k.lower() != "transfer-encoding"]
        reason = response.reason or ""
        status = StatusAndHeaders(f"{response.status_code} {reason}".strip(), headers,
                                  protocol=f"HTTP/{'1.0' if response.raw.version == 10 else '1.1'}")
        warc_headers = {"WARC-Date": date, "WARC-Concurrent-To": req.rec_headers.get_header("WARC-Record-ID")}
        if truncated:
            warc_headers["WARC-Truncated"] = "length"
        resp = self._writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                               http_headers=status, warc_headers_dict=warc_headers)
        self._writer.write_record(resp)
        self._writer.write_record(req)

    def close(self) -> None:
        self._fh.close()


def _nofollow(html: str, header: str | None) -> bool:
    """`<meta name="robots|narcotrace" content="nofollow|none">` or the X-Robots-Tag header say so."""
    from selectolax.lexbor import LexborHTMLParser

    values = [header or ""]
    for meta in LexborHTMLParser(html).css("meta[name][content]"):
        if (meta.attributes.get("name") or "").strip().lower() in ("robots", "narcotrace"):
            values.append(meta.attributes.get("content") or "")
    words = {w.strip().lower() for v in values for w in v.replace(":", ",").split(",")}
    return bool(words & {"nofollow", "none"})


def _decoded(body: bytes, encoding: str | None, limit: int = MAX_PAGE_BYTES) -> bytes:
    """The body without its Content-Encoding, never more than `limit` bytes (a gzip bomb stays small)."""
    encoding = (encoding or "").lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(31).decompress(body, limit)
        if encoding == "deflate":
            return zlib.decompressobj().decompress(body, limit)
    except zlib.error:
        return b""
    return body


def crawl(evidence: Path, seeds: Sequence[str], *, depth: int = 2, rate: float = 1.0, ignore_robots: bool = False,
          max_pages: int = 100, timeout: float = 20.0, max_bytes: int = MAX_PAGE_BYTES,
          session: requests.Session | None = None, on_page: Callable[[str], None] | None = None) -> CrawlResult:
    """Crawl from `seeds`, staying on their sites, and archive every fetch in a new WARC under `evidence`."""
    bad = [s for s in seeds if urlsplit(s).scheme not in ("http", "https") or not urlsplit(s).hostname]
    if bad:
        raise UserError(f"crawl: {', '.join(bad)} is not an http(s) URL")
    if depth < 0 or max_pages < 1 or rate < 0:
        raise UserError("crawl: --depth and --rate must be >= 0 and --max-pages >= 1")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = evidence / f"crawl-{stamp}-{uuid.uuid4().hex[:6]}.warc.gz"
    result = CrawlResult(path)
    archive = _Archive(path, seeds, ignore_robots)
    http = session or requests.Session()
    headers = {"User-Agent": user_agent(), "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
               "Accept-Encoding": "gzip, deflate"}
    last_fetch: dict[str, float] = {}
    # A shop's own DNS could point a subdomain at the analyst's network; only a private seed opens it.
    private_ok = any(private_address(urlsplit(s).hostname or "") for s in seeds)
    checked: dict[str, bool] = {}

    def fetch(url: str, delay: float) -> tuple[requests.Response, bytes] | None:
        hostname = urlsplit(url).hostname or ""
        if not private_ok:
            if hostname not in checked:
                checked[hostname] = private_address(hostname)
            if checked[hostname]:
                result.errors.append(f"{url}: not fetched, {hostname} resolves to a private or loopback address")
                return None
        host = urlsplit(url).netloc
        wait = last_fetch.get(host, -1e9) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last_fetch[host] = time.monotonic()
        fetched_at = datetime.now(UTC)
        try:
            resp = http.get(url, headers=headers, stream=True, allow_redirects=False, timeout=timeout)
        except requests.RequestException as e:
            result.errors.append(f"{url}: {type(e).__name__}: {e}")
            return None
        try:
            body = resp.raw.read(max_bytes + 1, decode_content=False)
        except Exception as e:  # noqa: BLE001 - a broken connection mid-body; keep what the server sent
            result.errors.append(f"{url}: body cut off: {e}")
            body = b""
        finally:
            resp.close()
        truncated = len(body) > max_bytes
        archive.record(url, headers, resp, body[:max_bytes], truncated, fetched_at)
        return resp, body[:max_bytes]

    def fetch_robots(url: str) -> tuple[int, bytes] | None:
        got = fetch(url, rate)
        if got is None:
            return None
        return got[0].status_code, _decoded(got[1], got[0].headers.get("Content-Encoding"))

    robots = _Robots(fetch_robots, ignore_robots)
    sites = {site_of(s) for s in seeds}
    queue: deque[tuple[str, int]] = deque()
    seen: set[str] = set()

    def enqueue(url: str, level: int) -> None:
        url = urldefrag(url)[0]
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            return
        if site_of(url) not in sites:
            result.off_site.add(url)
            return
        if level > depth:
            result.too_deep += 1
            return
        seen.add(url)
        queue.append((url, level))

    for s in seeds:
        enqueue(s, 0)
    try:
        while queue:
            if len(result.fetched) >= max_pages:
                result.stopped_at_max_pages = True
                break
            url, level = queue.popleft()
            if not robots.allowed(url):
                result.blocked_by_robots.append(url)
                continue
            got = fetch(url, max(rate, robots.delay(url)))
            if got is None:
                continue
            resp, body = got
            result.fetched.append(url)
            result.statuses[url] = resp.status_code
            if on_page:
                on_page(url)
            if resp.is_redirect and resp.headers.get("Location"):
                enqueue(urljoin(url, resp.headers["Location"]), level)  # same depth: it is the same page
                continue
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if resp.ok and ctype in _HTML:
                html, _ = decode_page(_decoded(body, resp.headers.get("Content-Encoding")), resp.encoding
                                      if "charset" in (resp.headers.get("Content-Type") or "").lower() else None)
                if not ignore_robots and _nofollow(html, resp.headers.get("X-Robots-Tag")):
                    result.nofollow.append(url)
                    continue
                for link in page_text(html, url)[2]:
                    enqueue(link, level + 1)
    finally:
        archive.close()
    return result


def crawl_into(ws, seeds: Sequence[str], *, scan: bool = True, **options) -> tuple[CrawlResult, object]:
    """Crawl into the workspace's evidence folder, audit it, then scan the WARC (unless `scan` is False)."""
    result = crawl(ws.evidence, seeds, **options)
    ws.audit("crawl", str(result.warc), {
        "seeds": list(seeds), "fetched": len(result.fetched), "robots_disallowed": result.blocked_by_robots,
        "off_site_links": len(result.off_site), "errors": result.errors, "user_agent": user_agent(),
        **{k: v for k, v in options.items() if k in ("depth", "rate", "ignore_robots", "max_pages")},
    })
    scanned = None
    if scan and result.fetched:
        # The scanner lives with the classifier; imported here so crawling works without loading the model.
        from narcotrace.online.scan import scan_paths

        scanned = scan_paths(ws, [result.warc], fmt="warc")
    return result, scanned
