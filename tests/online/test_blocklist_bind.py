"""The RPZ zone loaded into a real BIND `named` on 127.0.0.1: a listed domain gets NXDOMAIN, others resolve."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import datetime

import pytest

from narcotrace.online.blocklist import write_blocklist
from narcotrace.online.review import decide


def _need(tool: str) -> str:
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/usr/bin/{tool}") if os.path.exists(p)),
                                      None)
    if path is None:
        message = f"{tool} not installed (Debian packages bind9, bind9-utils, dnsutils; see scripts/setup.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI installs BIND: its absence there is a failure, not a skip
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dig(dig: str, port: int, name: str) -> tuple[str, str]:
    out = subprocess.run([dig, "@127.0.0.1", "-p", str(port), name, "A", "+tries=1", "+time=2", "+noall",
                          "+comments", "+answer"], capture_output=True, text=True, timeout=15).stdout
    status = next((line.split("status: ")[1].split(",")[0] for line in out.splitlines() if "status: " in line), "")
    answers = [line.split()[-1] for line in out.splitlines() if line and not line.startswith(";")]
    return status, " ".join(answers)


@pytest.mark.slow
def test_bind_answers_nxdomain_for_listed_domains(workspace, tmp_path):
    named, dig = _need("named"), _need("dig")
    ws = workspace
    ws.con.execute(
        "INSERT INTO posts (post_id, source_format, source, source_row, captured_at, sha256, text, score, label) "
        "VALUES ('p1', 'jsonl', 'in.jsonl', 1, ?, 'x', 'mef 24/7', 0.97, 'sale')", [datetime(2026, 10, 1)])
    ws.con.execute("INSERT INTO indicators (post_id, kind, value, canonical_id) VALUES "
                   "('p1', 'domain', 'blocked-shop.test', 'domain:blocked-shop.test')")
    decide(ws, "approve", ["p1"], reason="price list and drop-offs", reviewer="alice")
    zone_file = tmp_path / "rpz.zone"
    assert write_blocklist(ws, "rpz", zone_file, proposed=False, zone="rpz.narcotrace.") == 1

    # A local zone gives the resolver a name it can answer without the internet.
    (tmp_path / "local.zone").write_text(
        "$TTL 300\n@ IN SOA localhost. hostmaster.localhost. ( 1 3600 600 604800 300 )\n@ IN NS localhost.\n"
        "ok IN A 192.0.2.10\n")
    port = _free_port()
    (tmp_path / "named.conf").write_text(f"""
options {{
    directory "{tmp_path}";
    pid-file "{tmp_path}/named.pid";
    session-keyfile "{tmp_path}/session.key";
    managed-keys-directory "{tmp_path}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    allow-recursion {{ 127.0.0.1; }};
    dnssec-validation no;
    notify no;
    response-policy {{ zone "rpz.narcotrace"; }} qname-wait-recurse no;
}};
controls {{ }};
zone "rpz.narcotrace" {{ type primary; file "{zone_file}"; allow-query {{ none; }}; }};
zone "local.test" {{ type primary; file "{tmp_path}/local.zone"; }};
zone "blocked-shop.test" {{ type primary; file "{tmp_path}/local.zone"; }};
""")
    check = subprocess.run([_need("named-checkconf"), str(tmp_path / "named.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    log = open(tmp_path / "named.log", "w")
    proc = subprocess.Popen([named, "-g", "-n", "1", "-c", str(tmp_path / "named.conf")], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        status = ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            status, answer = _dig(dig, port, "ok.local.test")
            if status == "NOERROR":
                break
            time.sleep(0.3)
        log.flush()
        assert status == "NOERROR", (tmp_path / "named.log").read_text()[-3000:]
        assert answer == "192.0.2.10"
        # blocked-shop.test is served locally too, so without the policy ok.blocked-shop.test would answer
        # 192.0.2.10 and the apex NOERROR: NXDOMAIN for both is the zone's CNAME . and *. rules at work.
        assert _dig(dig, port, "ok.blocked-shop.test")[0] == "NXDOMAIN"
        assert _dig(dig, port, "blocked-shop.test")[0] == "NXDOMAIN"
        assert "rpz" in (tmp_path / "named.log").read_text().lower()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
