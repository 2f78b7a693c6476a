"""goAML XML suspicious-transaction report (STR), validated against the FIU's XSD before it is written.

One report per export: the reason names each reported account with its score, role and typologies; the
transactions are the alerts' evidence transfers with their from/to accounts (t_from / t_to). Only confirmed
alerts unless --proposed, in which case the reference and reason say the report holds unapproved proposals.
Code lists differ per FIU, so the XSD is the user's: --schema FILE, `schema:` in goaml.yaml, or
$NARCOTRACE_GOAML_XSD; in a development checkout the reference schema in ../shared/formats/goaml is used.
"""

from __future__ import annotations

import copy
import hashlib
import os
import xml.etree.ElementTree as ET
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from narcotrace.errors import UserError
from narcotrace.export.approved import alerts_for_export
from narcotrace.workspace import Workspace, utcnow

REFERENCE_XSD = "shared/formats/goaml/goAMLSchema-5.0.1.xsd"


def load_config(ws: Workspace) -> dict[str, Any]:
    """Defaults shipped with narcotrace, overlaid by <workspace>/goaml.yaml or $NARCOTRACE_GOAML_CONFIG."""
    cfg = yaml.safe_load(resources.files("narcotrace.export").joinpath("goaml.yaml").read_text(encoding="utf-8"))
    for path in (os.environ.get("NARCOTRACE_GOAML_CONFIG"), ws.root / "goaml.yaml"):
        if path and Path(path).is_file():
            try:
                override = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as e:
                raise UserError(f"{path}: not valid YAML ({e})") from e
            unknown = set(override) - set(cfg)
            if unknown:
                raise UserError(f"{path}: unknown goAML settings {sorted(unknown)}; known: {', '.join(cfg)}")
            cfg = {**cfg, **copy.deepcopy(override)}
            break
    return cfg


def find_schema(schema: Path | None, cfg: dict[str, Any]) -> Path:
    candidates = [schema, cfg.get("schema"), os.environ.get("NARCOTRACE_GOAML_XSD")]
    for c in candidates:
        if c:
            p = Path(c)
            if not p.is_file():
                raise UserError(f"--schema {p}: no such file; give the path of your FIU's goAML XSD")
            return p
    # development checkouts keep the public reference schema beside the repository
    for base in (Path.cwd().parent, Path(__file__).resolve().parents[4]):
        p = base / REFERENCE_XSD
        if p.is_file():
            return p
    raise UserError("goAML export needs your FIU's XSD: pass --schema FILE, set `schema:` in "
                    "<workspace>/goaml.yaml, or set NARCOTRACE_GOAML_XSD")


@lru_cache(maxsize=4)
def _schema(path: str) -> Any:
    import xmlschema

    try:
        return xmlschema.XMLSchema11(path)
    except Exception as e:  # a broken or non-XSD file
        raise UserError(f"--schema {path}: cannot load it as an XSD 1.1 schema ({str(e).splitlines()[0]})") from e


def validate(xml: bytes, schema_path: Path) -> list[str]:
    """Schema errors (empty when valid), each with the path of the offending element."""
    from xml.etree.ElementTree import fromstring

    schema = _schema(str(schema_path))
    if "report" not in schema.elements:
        return [f"{schema_path} declares no <report> element; is it a goAML schema (XSD 1.1)?"]
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(fromstring(xml))]


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _date(ts: Any) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S")


def _banks() -> dict[str, dict[str, str]]:
    """Bank code or name -> {name, bic, country} from the banks the simulator and readers know."""
    data = yaml.safe_load(resources.files("narcotrace.data").joinpath("banks.yaml").read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for b in data.get("banks", []):
        out[b["code"]] = {"name": b["name"], "bic": b.get("bic", ""), "country": "KZ"}
    for b in data.get("foreign_banks", []):
        out[b["code"]] = {"name": b["name"], "bic": b.get("bic", ""), "country": b.get("country", "")}
    for v in list(out.values()):
        out[v["name"]] = v
    return out


def _party(parent: ET.Element, side: str, account: str, bank: str | None, country: str | None,
           cfg: dict[str, Any], banks: dict[str, dict[str, str]]) -> None:
    el = _sub(parent, f"t_{side}")
    _sub(el, f"{side}_funds_code", cfg["funds_code"])
    acct = _sub(el, f"{side}_account")
    info = banks.get(bank or "", {})
    _sub(acct, "institution_name", info.get("name") or bank or "unknown")
    if info.get("bic"):
        _sub(acct, "swift", info["bic"])
    else:  # no BIC known: the bank's own code stands in
        _sub(acct, "institution_code", bank or "unknown")
    _sub(acct, "account", account)
    _sub(el, f"{side}_country", (country or info.get("country") or cfg["home_country"]).upper())


def build_report(ws: Workspace, rows: list[dict[str, Any]], cfg: dict[str, Any], *, proposed: bool) -> tuple[bytes, int]:
    """The STR as XML bytes and the number of transactions in it."""
    now = utcnow()
    tids: list[str] = []
    for r in rows:
        tids.extend(t for t in r["evidence_transfer_ids"] if t not in tids)
    tids = tids[: int(cfg["max_transactions"])]
    con = ws.con
    con.execute("CREATE OR REPLACE TEMP TABLE _goaml_tids (transfer_id VARCHAR)")
    con.executemany("INSERT INTO _goaml_tids VALUES (?)", [(t,) for t in tids])
    tx = con.execute("""
        SELECT t.transfer_id, t.timestamp, t.from_account, t.to_account, t.from_bank, t.to_bank,
               coalesce(t.amount_base, t.amount) AS amount_local, t.amount, t.currency, t.channel, t.description,
               fa.country, ta.country, coalesce(fa.bank, t.from_bank), coalesce(ta.bank, t.to_bank)
        FROM transfers t JOIN _goaml_tids USING (transfer_id)
        LEFT JOIN accounts fa ON fa.account_id = t.from_account
        LEFT JOIN accounts ta ON ta.account_id = t.to_account
        ORDER BY t.timestamp, t.transfer_id
    """).fetchall()
    con.execute("DROP TABLE _goaml_tids")
    banks = _banks()
    digest = hashlib.sha1(";".join(sorted(r["alert_id"] for r in rows)).encode()).hexdigest()[:8]
    ref = f"{cfg['entity_reference_prefix']}-{now:%Y%m%d}-{digest}" + ("-PROPOSED" if proposed else "")

    report = ET.Element("report")
    _sub(report, "rentity_id", cfg["rentity_id"])
    _sub(report, "rentity_branch", cfg["rentity_branch"])
    _sub(report, "submission_code", cfg["submission_code"])
    _sub(report, "report_code", cfg["report_code"])
    _sub(report, "entity_reference", ref)
    _sub(report, "submission_date", _date(now))
    _sub(report, "currency_code_local", cfg["currency_code_local"])
    person = _sub(report, "reporting_person")
    _sub(person, "first_name", cfg["reporting_person"]["first_name"])
    _sub(person, "last_name", cfg["reporting_person"]["last_name"])
    loc = _sub(report, "location")
    for key in ("address_type", "address", "city", "country_code"):
        _sub(loc, key, cfg["location"][key])
    lines = [("PROPOSED, not yet approved by a reviewer. " if proposed and any(r["approval"] == "proposed" for r in rows) else "")
             + f"{len(rows)} account(s) flagged by narcotrace:"]
    for r in rows:
        lines.append(f"{r['account_id']} ({r['approval']}): suspected {r['role']}, risk {r['score']:.2f} "
                     f"({r['model_version']}); {', '.join(r['typologies']) or 'no typology'}; "
                     + (r["reasons"][1] if len(r["reasons"]) > 1 else r["reasons"][0] if r["reasons"] else ""))
    _sub(report, "reason", "\n".join(lines)[:4000])
    for (tid, ts, fa, ta, fb, tb, amount_local, amount, currency, channel, desc,
         fcountry, tcountry, fbank, tbank) in tx:
        t = _sub(report, "transaction")
        _sub(t, "transactionnumber", tid)
        _sub(t, "transaction_location", cfg["transaction_location"])
        _sub(t, "transaction_description", (f"{channel or 'transfer'}: {desc}" if desc else (channel or "transfer"))[:4000])
        _sub(t, "date_transaction", _date(ts))
        _sub(t, "transmode_code", cfg["transmode_code"])
        _sub(t, "amount_local", f"{amount_local:.2f}")
        _party(t, "from", fa, fbank, fcountry, cfg, banks)
        _party(t, "to", ta, tbank, tcountry, cfg, banks)
    ind = _sub(report, "report_indicators")
    for code in cfg["report_indicators"]:
        _sub(ind, "indicator", code)
    ET.indent(report)
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(report, encoding="utf-8")
    return xml, len(tx)


def export(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None) -> int:
    """Write the STR if it validates against the XSD; return the number of transactions reported."""
    cfg = load_config(ws)
    schema_path = find_schema(schema, cfg)
    rows = alerts_for_export(ws, proposed=proposed, channel=channel)
    if not rows:
        hint = "" if proposed else " (or add --proposed to include unreviewed alerts, marked as proposals)"
        raise UserError("goAML: no confirmed alerts to report; confirm some with "
                        f"`narcotrace alerts set ALERT_ID --status confirmed --reason ...`{hint}")
    xml, n = build_report(ws, rows, cfg, proposed=proposed)
    if n == 0:
        raise UserError("goAML: the alerts have no evidence transfers in this workspace; re-run `narcotrace analyze`")
    errors = validate(xml, schema_path)
    if errors:
        shown = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
        raise UserError(f"goAML report does not validate against {schema_path}, nothing written: {shown}. "
                        "Fix the code values in <workspace>/goaml.yaml for this FIU's code lists.")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(xml)
    ws.audit("goaml_str", str(out), {
        "schema": str(schema_path), "sha256": hashlib.sha256(xml).hexdigest(), "transactions": n,
        "alerts": [r["alert_id"] for r in rows], "accounts": [r["account_id"] for r in rows],
        "proposed": sum(r["approval"] == "proposed" for r in rows), "channel": channel})
    return n
