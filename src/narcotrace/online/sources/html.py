"""HTML pages: visible text (no script, style, noscript, template or hidden elements), title and absolute links."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from narcotrace.online.sources.accounting import FileReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.textfile import binary_reason

# Pages are bigger than posts; past this a "page" is a dump, not something a person reads.
MAX_PAGE_BYTES = 20 << 20
INVISIBLE = ["script", "style", "noscript", "template", "svg", "iframe", "object"]
_BLOCKS = ("p,div,br,li,ul,ol,tr,table,h1,h2,h3,h4,h5,h6,section,article,header,footer,nav,aside,main,"
           "blockquote,pre,form,dl,dt,dd,hr,address,figure,figcaption,details,summary,option")
_CELLS = "td,th"
_KEPT_SCHEMES = {"http", "https", "mailto", "tg", "ftp", "file"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SPACES = re.compile(r"[ \t\u00a0\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def decode_page(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Page text and the encoding used: HTTP charset, BOM, <meta charset>, UTF-8, else cp1251."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, "replace"), name
    candidates = [declared] if declared else []
    m = _META_CHARSET.search(data[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            return data.decode(codecs.lookup(name).name), name.lower()
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251", "replace"), "cp1251"


def page_text(html: str, base_url: str | None,
              fallback_base: str | None = None) -> tuple[str, str | None, list[str], str | None]:
    """Visible text, title, absolute links and canonical URL of an HTML document.

    Links resolve against <base href>, else the URL the page was fetched from, else its canonical URL,
    else `fallback_base` (the file's own file:// URI for a page saved to disk)."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _SPACES.sub(" ", title_node.text()).strip() if title_node else None
    canonical = None
    for selector in ('link[rel="canonical"]', 'meta[property="og:url"]'):
        node = tree.css_first(selector)
        value = node.attributes.get("href" if node is not None and node.tag == "link" else "content") if node else None
        if value and urlsplit(value).scheme in ("http", "https"):
            canonical = value.strip()
            break
    base_node = tree.css_first("base[href]")
    base = base_url or canonical or fallback_base
    if base_node is not None and base_node.attributes.get("href"):
        base = urljoin(base or "", base_node.attributes["href"] or "")
    links: list[str] = []
    seen: set[str] = set()
    for a in tree.css("a[href], area[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(base, href) if base else href
        if urlsplit(url).scheme.lower() not in _KEPT_SCHEMES:
            continue  # javascript:, data:, or still relative (no base known)
        if url not in seen:
            seen.add(url)
            links.append(url)
    tree.strip_tags(INVISIBLE)
    for node in tree.css("[hidden], [aria-hidden=true]"):
        node.decompose()
    body = tree.body
    if body is None:
        return (title or ""), title, links, canonical
    # Block boundaries become line breaks so words of adjacent blocks do not run together.
    for node in body.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    for node in body.css(_CELLS):
        node.insert_after(" ")
    text = body.text(separator="", strip=False)
    text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    text = _BLANK_LINES.sub("\n", text).strip()
    if title and not text.startswith(title):
        text = f"{title}\n{text}" if text else title
    return text, title, links, canonical


def page_post(data: bytes, *, source: str, source_row: int, fmt: str, captured_at: datetime,
              url: str | None = None, charset: str | None = None, date: datetime | None = None,
              extra: dict | None = None) -> RawPost | Quarantined:
    """One page as a post: id is the canonical URL, else the URL it was fetched from, else the file path."""
    if len(data) > MAX_PAGE_BYTES:
        return Quarantined(source, source_row, f"page is {len(data):,} bytes, over the {MAX_PAGE_BYTES:,}-byte limit")
    html, encoding = decode_page(data, charset)
    fallback = Path(source).resolve().as_uri() if fmt == "html" else None
    text, title, links, canonical = page_text(html, url, fallback)
    if not text.strip():
        return Quarantined(source, source_row, "page has no visible text", html[:2000])
    return RawPost(
        post_id=url or canonical or source,
        text=text,
        source=source,
        source_row=source_row,
        source_format=fmt,
        captured_at=captured_at,
        sha256=hashlib.sha256(data).hexdigest(),
        channel=urlsplit(url or canonical or "").hostname,
        date=date,
        url=url or canonical,
        links=links,
        extra={"title": title, "encoding": encoding, **(extra or {})},
    )


def read(path: Path, report: FileReport, *, captured_at: datetime,
         max_row_bytes: int = MAX_PAGE_BYTES) -> Iterator[RawPost | Quarantined]:
    source = str(path)
    size = path.stat().st_size
    if size == 0:
        report.error = "empty file (0 bytes): no page to read"
        yield Quarantined(source, 0, report.error)
        return
    if size > MAX_PAGE_BYTES:
        report.error = f"page is {size:,} bytes, over the {MAX_PAGE_BYTES:,}-byte limit"
        yield Quarantined(source, 0, report.error)
        return
    data = path.read_bytes()
    reason = None if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else binary_reason(data[:65536])
    if reason:
        report.error = f"{reason}; expected an HTML page"
        yield Quarantined(source, 0, report.error)
        return
    item = page_post(data, source=source, source_row=1, fmt="html", captured_at=captured_at)
    if isinstance(item, RawPost):
        report.encoding = item.extra.get("encoding")
    yield item
