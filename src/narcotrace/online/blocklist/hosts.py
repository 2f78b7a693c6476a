"""hosts file lines (`0.0.0.0 domain`) for resolvers and filters that take them (Pi-hole, dnsmasq, /etc/hosts)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from narcotrace import __version__
from narcotrace.online.blocklist import dns_name
from narcotrace.workspace import utcnow


def write(entries: list, out: Path, *, proposed: bool) -> int:
    # hosts has no wildcards: list the domain, its www., and every host seen in a listed URL under it.
    url_hosts: dict[str, set[str]] = {}
    domains = {e.dns_name: e for e in entries if e.kind == "domain" and e.dns_name}
    for e in entries:
        if e.kind == "url":
            host = dns_name(urlsplit(e.value).hostname or "")
            if host:
                for d in domains:
                    if host == d or host.endswith("." + d):
                        url_hosts.setdefault(d, set()).add(host)
    lines = [f"# narcotrace {__version__} blocklist, generated {utcnow().isoformat(timespec='seconds')}Z",
             "# " + ("approved AND PROPOSED (unreviewed) entries" if proposed else "approved entries only")]
    count = 0
    for status in ("approved", "proposed"):
        block = [(d, e) for d, e in domains.items() if e.status == status]
        if not block:
            continue
        lines.append("# ---- approved by a reviewer ----" if status == "approved"
                     else "# ---- PROPOSED: not yet approved by a person ----")
        for name, e in block:
            note = f"{'PROPOSED; ' if status == 'proposed' else ''}score {e.score:.2f}; posts " + " ".join(e.post_ids[:5])
            # Post ids are input data: one line, ASCII (escaped), bounded.
            lines.append("# " + " ".join(note.split())[:400].encode("ascii", "backslashreplace").decode("ascii"))
            for host in sorted({name, "www." + name} | url_hosts.get(name, set())):
                lines.append(f"0.0.0.0 {host}")
            count += 1
    out.write_text("\n".join(lines) + "\n", encoding="ascii")
    return count
