"""Blocklists of the shops found: which domains, URLs and handles to list, with their evidence.

Only posts labelled `sale` count. By default only posts a person approved (`narcotrace review approve`);
with `proposed=True` also unreviewed sale posts scoring at least the threshold, marked `proposed`.
Rejected posts never contribute. One writer per format (rpz, hosts, csv_, stix) turns entries into a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from narcotrace.errors import UserError
from narcotrace.online.indicators.web import EXPLORER_DOMAINS

FORMATS = ("rpz", "hosts", "csv", "stix")
KINDS = ("domain", "onion", "url", "telegram")
DEFAULT_MIN_SCORE = 0.5


@dataclass
class Entry:
    """One thing to block (a domain, onion, URL or Telegram handle) and the posts that justify it."""

    kind: str  # domain | onion | url | telegram
    value: str
    canonical_id: str
    status: str  # approved | proposed
    score: float  # highest score of the posts behind it
    post_ids: list[str] = field(default_factory=list)
    source_urls: list[str] = field(default_factory=list)
    captured_at: list[datetime] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)

    @property
    def dns_name(self) -> str | None:
        """The domain as an ASCII DNS name (IDNA), or None when it cannot be one."""
        return dns_name(self.value) if self.kind == "domain" else None


@lru_cache(maxsize=1)
def never_block() -> frozenset[str]:
    """Registered domains that are never DNS-blocked whole (platforms, shorteners, banks, block explorers)."""
    text = resources.files(__package__).joinpath("never_block.txt").read_text(encoding="utf-8")
    listed = {line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")}
    return frozenset(listed | EXPLORER_DOMAINS)


@lru_cache(maxsize=1)
def _extract():
    import tldextract

    # The bundled public-suffix snapshot only: never fetch at run time. Private suffixes (github.io,
    # blogspot.com, netlify.app) count as suffixes, so a shop on a hosting platform is blocked alone.
    return tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


def registered_domain(host: str) -> str | None:
    """shop.kz for www.shop.kz; shop.github.io for shop.github.io; None for IPs, onions and bare suffixes."""
    host = host.lower().rstrip(".")
    if host.endswith(".onion"):
        return None
    return _extract()(host).top_domain_under_public_suffix or None


def is_public_suffix(name: str) -> bool:
    """Whether a name is itself a public suffix (kz, com.kz, github.io), so no one owns it whole."""
    parts = _extract()(name.lower().rstrip("."))
    return bool(parts.suffix) and not parts.domain


def dns_name(domain: str) -> str | None:
    name = domain.strip().lower().rstrip(".")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(
            0 < len(lb) <= 63 and all(c.isalnum() or c == "-" for c in lb) and not lb.startswith("-")
            and not lb.endswith("-") for lb in labels):
        return None
    return ascii_name


_SELECT = """
WITH latest AS (
    SELECT target_id AS post_id, decision, label, reviewer,
           row_number() OVER (PARTITION BY target_id ORDER BY decided_at DESC, decision_id DESC) AS rn
    FROM decisions WHERE target_kind = 'post'
), chosen AS (
    SELECT p.post_id, coalesce(p.score, 0) AS score, coalesce(p.url, p.source) AS source_url, p.captured_at,
           p.sha256, CASE WHEN d.decision = 'approve' THEN 'approved' ELSE 'proposed' END AS status, d.reviewer
    FROM posts p LEFT JOIN latest d ON d.post_id = p.post_id AND d.rn = 1
    WHERE ((d.decision = 'approve' AND coalesce(d.label, p.label) = 'sale')
           OR (? AND d.decision IS NULL AND p.label = 'sale' AND coalesce(p.score, 0) >= ?))
      AND (CAST(? AS VARCHAR) IS NULL OR p.post_id IN (
           SELECT member_id FROM channel_members WHERE member_kind = 'post' AND channel_id = ?))
)
SELECT i.kind, i.value, i.canonical_id, c.post_id, c.score, c.source_url, c.captured_at, c.sha256, c.status,
       c.reviewer
FROM indicators i JOIN chosen c ON c.post_id = i.post_id
WHERE i.kind IN ('domain', 'onion', 'url', 'telegram')
ORDER BY i.kind, i.value, c.post_id
"""


def select_entries(ws, *, proposed: bool = False, min_score: float = DEFAULT_MIN_SCORE,
                   allow: Iterable[str] = (), channel: str | None = None) -> list[Entry]:
    """Entries to block, from approved sale posts (and, if `proposed`, unreviewed ones above `min_score`).

    Domains come from the indicators and from the hosts of listed URLs; a domain on the never-block
    list (or in `allow`) is not listed as a domain, but its URLs and handles are.
    """
    if channel is not None and not ws.con.execute(
            "SELECT 1 FROM channels WHERE channel_id = ?", [channel]).fetchone():
        raise UserError(f"--channel {channel}: no such channel in this workspace; see `narcotrace channels`")
    rows = ws.con.execute(_SELECT, [proposed, min_score, channel, channel]).fetchall()
    keep_whole = never_block() | {a.lower().strip() for a in allow}
    entries: dict[tuple[str, str], Entry] = {}

    def add(kind: str, value: str, canonical: str, row: tuple) -> None:
        _, _, _, post_id, score, source_url, captured_at, sha, status, reviewer = row
        e = entries.get((kind, value))
        if e is None:
            e = entries[(kind, value)] = Entry(kind, value, canonical, status, float(score))
        if status == "approved":
            e.status = "approved"
        e.score = max(e.score, float(score))
        if post_id not in e.post_ids:
            e.post_ids.append(post_id)
            e.source_urls.append(source_url or "")
            e.captured_at.append(captured_at)
            e.sha256s.append(sha or "")
        if reviewer and reviewer not in e.reviewers:
            e.reviewers.append(reviewer)

    for row in rows:
        kind, value, canonical = row[0], (row[1] or "").strip(), row[2]
        if not value:
            continue
        if kind == "telegram":
            handle = value.lstrip("@").lower()
            add("telegram", handle, canonical or f"telegram:{handle}", row)
        elif kind in ("url", "domain", "onion"):
            host = (urlsplit(value).hostname if "://" in value else value.split("/")[0]) or ""
            host = host.lower().rstrip(".")
            if kind == "url":
                if registered_domain(host) in EXPLORER_DOMAINS:
                    continue  # a block explorer's page of a wallet: evidence, nothing to block
                add("url", value, canonical or f"url:{value}", row)
            if host.endswith(".onion"):
                add("onion", host, f"onion:{host}", row)
                continue
            if kind == "domain":
                domain = value.lower().rstrip(".")
                if is_public_suffix(domain):
                    continue  # a hosting platform's suffix (github.io): the shop's own host comes from its URL
            else:
                domain = registered_domain(host)
            if domain and domain not in keep_whole and registered_domain(domain) not in keep_whole:
                add("domain", domain, f"domain:{domain}", row)
    return sorted(entries.values(), key=lambda e: (KINDS.index(e.kind), e.status != "approved", e.value))


def write_blocklist(ws, fmt: str, out: str | Path, *, proposed: bool, min_score: float = DEFAULT_MIN_SCORE,
                    zone: str = "rpz.narcotrace.", allow: Iterable[str] = (), channel: str | None = None) -> int:
    """Write a blocklist file in `fmt` (rpz | hosts | csv | stix) and audit it; returns the entries written."""
    from narcotrace.online.blocklist import csv_, hosts, rpz, stix

    writers = {"rpz": rpz.write, "hosts": hosts.write, "csv": csv_.write, "stix": stix.write}
    if fmt not in writers:
        raise UserError(f"--format {fmt}: unknown blocklist format; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise UserError(f"--out {out}: folder {out.parent} does not exist")
    entries = select_entries(ws, proposed=proposed, min_score=min_score, allow=allow, channel=channel)
    options = {"zone": zone} if fmt == "rpz" else {}
    written = writers[fmt](entries, out, proposed=proposed, **options)
    ws.audit("blocklist", str(out), {
        "format": fmt, "entries": written, "proposed_included": proposed, "min_score": min_score, "channel": channel,
        "approved": sum(1 for e in entries if e.status == "approved"),
        "proposed": sum(1 for e in entries if e.status == "proposed"),
        "by_kind": {k: sum(1 for e in entries if e.kind == k) for k in KINDS},
    })
    return written
