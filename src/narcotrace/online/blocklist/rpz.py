"""DNS Response Policy Zone (RPZ) for BIND, Unbound, PowerDNS: listed domains and their subdomains -> NXDOMAIN."""

from __future__ import annotations

import time
from pathlib import Path

from narcotrace import __version__
from narcotrace.workspace import utcnow


def _comment(text: str) -> str:
    # Post ids are input data: one line, ASCII (escaped), bounded, so they cannot break the zone.
    return " ".join(text.split())[:400].encode("ascii", "backslashreplace").decode("ascii")


def zone_text(entries: list, *, zone: str, proposed: bool, serial: int | None = None) -> tuple[str, int]:
    """The zone file text and how many domains it lists. Onions and handles are not DNS: CSV/STIX carry them."""
    zone = zone.rstrip(".") + "."
    serial = serial or int(time.time())
    lines = [
        f"; narcotrace {__version__} response policy zone {zone}",
        f"; generated {utcnow().isoformat(timespec='seconds')}Z; "
        + ("approved AND PROPOSED (unreviewed) entries" if proposed else "approved entries only"),
        "; each listed domain and all its subdomains answer NXDOMAIN (CNAME . rule)",
        "$TTL 300",
        f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 604800 300 )",
        "@ IN NS localhost.",
        "",
    ]
    count = 0
    seen: set[str] = set()
    for status in ("approved", "proposed"):
        block = [e for e in entries if e.kind == "domain" and e.status == status]
        if not block:
            continue
        lines.append("; ---- approved by a reviewer ----" if status == "approved"
                     else "; ---- PROPOSED: not yet approved by a person; review before loading ----")
        for e in block:
            name = e.dns_name
            if name is None or name in seen:
                continue
            seen.add(name)
            who = f"approved by {', '.join(e.reviewers)}" if status == "approved" else "PROPOSED"
            lines.append(_comment(f"; {who}; score {e.score:.2f}; posts {' '.join(e.post_ids[:5])}"
                                  + (f" (+{len(e.post_ids) - 5} more)" if len(e.post_ids) > 5 else "")))
            lines.append(f"{name} CNAME .")
            lines.append(f"*.{name} CNAME .")
            count += 1
        lines.append("")
    return "\n".join(lines) + "\n", count


def write(entries: list, out: Path, *, proposed: bool, zone: str = "rpz.narcotrace.") -> int:
    text, count = zone_text(entries, zone=zone, proposed=proposed)
    out.write_text(text, encoding="ascii")
    return count
