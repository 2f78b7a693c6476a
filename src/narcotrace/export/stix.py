"""STIX 2.1 bundle of the drug channels for MISP and other CTI platforms: indicators, the shop, its wallets.

Written the way MISP's own STIX 2.1 export writes an event (misp-stix), so MISP's importer keeps everything:
- each drug channel -> a `grouping` (one MISP event) labelled `misp:tool="MISP-STIX-Converter"`, and a
  `threat-actor` for the shop (labelled as a MISP threat-actor galaxy cluster);
- domains, onions, URLs, e-mails -> `indicator`s with STIX patterns, labelled `misp:type=...`;
- Telegram handles and bots -> `indicator`s `[user-account:account_type = 'telegram' AND
  user-account:account_login = '...']`, labelled as MISP `telegram-account` objects;
- crypto wallets -> `x-misp-object`s: `btc-wallet` (wallet-address) for Bitcoin, `coin-address`
  (address-crypto / address-xmr + symbol) for the other chains, as MISP exports them;
- cards, phones and IBANs the ads name -> `x-misp-attribute`s (cc-number, phone-number, iban), not for IDS;
- `indicates` relationships indicator -> threat-actor, `related-to` wallet/attribute -> threat-actor.
Items not yet approved by a person are only exported with --proposed and carry the label
`narcotrace:status="proposed"` and a lower confidence. Ids are stable (name-based), so a re-export updates.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from narcotrace.errors import UserError
from narcotrace.export.findings import APPROVED, Findings, Indicator, load_findings
from narcotrace.online.blocklist.stix import stable_id
from narcotrace.workspace import Workspace, utcnow

MISP_TOOL = 'misp:tool="MISP-STIX-Converter"'
IDENTITY_ID = stable_id("identity", "narcotrace")
COIN_SYMBOLS = {"eth": "ETH", "tron": "TRX", "ltc": "LTC", "xmr": "XMR", "btc": "BTC"}
PATTERN_KINDS = {"domain": ("domain", "Network activity", "domain-name"),
                 "onion": ("domain", "Network activity", "domain-name"),
                 "url": ("url", "Network activity", "url"),
                 "email": ("email", "Social network", "email-addr")}
ATTRIBUTE_KINDS = {"card": "cc-number", "phone": "phone-number", "iban": "iban"}


def _ts(d: datetime | None) -> str:
    return (d or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _status_label(status: str) -> str:
    return f'narcotrace:status="{status}"'


class Bundle:
    """Collects STIX objects once each (by id) in a stable order."""

    def __init__(self, created: str) -> None:
        self.created = created
        self.objects: dict[str, dict[str, Any]] = {}

    def add(self, obj: dict[str, Any]) -> str:
        obj.setdefault("spec_version", "2.1")
        if obj["type"] not in ("relationship",) and "created_by_ref" not in obj and obj["type"] != "identity":
            obj["created_by_ref"] = IDENTITY_ID
        obj.setdefault("created", self.created)
        obj.setdefault("modified", self.created)
        self.objects.setdefault(obj["id"], obj)
        return obj["id"]

    def relate(self, kind: str, src: str, dst: str) -> str:
        return self.add({"type": "relationship", "id": stable_id("relationship", f"{kind}|{src}|{dst}"),
                         "relationship_type": kind, "source_ref": src, "target_ref": dst})


def _indicator(b: Bundle, ind: Indicator, f: Findings) -> str | None:
    seen = [f.posts[p].captured_at or f.posts[p].date for p in ind.post_ids if p in f.posts]
    first = min((d for d in seen if d is not None), default=None)
    evidence = "; ".join(f"post {p} ({f.posts[p].url or f.posts[p].source or '?'}, sha256 {f.posts[p].sha256 or '?'})"
                         for p in ind.post_ids[:10] if p in f.posts)
    common: dict[str, Any] = {"created": _ts(first), "modified": _ts(first), "valid_from": _ts(first).replace(".000Z", "Z"),
              "pattern_type": "stix", "pattern_version": "2.1",
              "confidence": 90 if ind.status == APPROVED else 50,
              "description": ("Approved" if ind.status == APPROVED else "PROPOSED: not yet approved by a person")
              + f". Named in {len(ind.post_ids)} flagged post(s). Evidence: {evidence}",
              "kill_chain_phases": [{"kill_chain_name": "misp-category", "phase_name": "Network activity"}]}
    if ind.kind in PATTERN_KINDS:
        misp_type, category, sco = PATTERN_KINDS[ind.kind]
        common["kill_chain_phases"] = [{"kill_chain_name": "misp-category", "phase_name": category}]
        return b.add({"type": "indicator", "id": stable_id("indicator", ind.id), **common,
                      "name": f"{ind.kind} {ind.value} of a drug shop",
                      "indicator_types": ["malicious-activity"],
                      "pattern": f"[{sco}:value = {_quote(ind.value)}]",
                      "labels": [f'misp:type="{misp_type}"', f'misp:category="{category}"', 'misp:to_ids="True"',
                                 _status_label(ind.status)]})
    if ind.kind == "telegram":
        common["kill_chain_phases"] = [{"kill_chain_name": "misp-category", "phase_name": "misc"}]
        return b.add({"type": "indicator", "id": stable_id("indicator", ind.id), **common,
                      "name": f"Telegram {'bot' if ind.is_bot else 'account'} @{ind.value} of a drug shop",
                      "indicator_types": ["malicious-activity"],
                      "pattern": f"[user-account:account_type = 'telegram' AND user-account:account_login = "
                                 f"{_quote(ind.value)}]",
                      "labels": ['misp:name="telegram-account"', 'misp:meta-category="misc"', 'misp:to_ids="True"',
                                 _status_label(ind.status)]})
    if ind.kind in COIN_SYMBOLS:
        if ind.kind == "btc":
            name, attrs = "btc-wallet", [{"type": "btc", "object_relation": "wallet-address", "value": ind.value,
                                          "to_ids": True}]
        else:
            relation, mtype = ("address-xmr", "xmr") if ind.kind == "xmr" else ("address-crypto", "text")
            name, attrs = "coin-address", [{"type": mtype, "object_relation": relation, "value": ind.value,
                                            "to_ids": True},
                                           {"type": "text", "object_relation": "symbol", "value": COIN_SYMBOLS[ind.kind]}]
        return b.add({"type": "x-misp-object", "id": stable_id("x-misp-object", ind.id),
                      "created": common["created"], "modified": common["modified"],
                      "labels": [f'misp:name="{name}"', 'misp:meta-category="financial"', _status_label(ind.status)],
                      "x_misp_name": name, "x_misp_meta_category": "financial",
                      "x_misp_comment": common["description"][:1000], "x_misp_attributes": attrs})
    if ind.kind in ATTRIBUTE_KINDS:
        return b.add({"type": "x-misp-attribute", "id": stable_id("x-misp-attribute", ind.id),
                      "created": common["created"], "modified": common["modified"],
                      "labels": [f'misp:type="{ATTRIBUTE_KINDS[ind.kind]}"', 'misp:category="Financial fraud"',
                                 _status_label(ind.status)],
                      "x_misp_type": ATTRIBUTE_KINDS[ind.kind], "x_misp_category": "Financial fraud",
                      "x_misp_value": ind.value, "x_misp_to_ids": False,
                      "x_misp_comment": "payment detail named in a drug shop's ads; " + common["description"][:900]})
    return None


def build_bundle(f: Findings) -> dict[str, Any]:
    """The bundle as a dict (one grouping per channel; indicators not in any channel go in one more grouping)."""
    b = Bundle(_ts(utcnow()))
    b.add({"type": "identity", "id": IDENTITY_ID, "name": "narcotrace", "identity_class": "system",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "description": "narcotrace: finds online drug shops and follows their money"})
    done: set[str] = set()
    for ch in f.channels.values():
        refs: list[str] = []
        actor = b.add({"type": "threat-actor", "id": stable_id("threat-actor", ch.id), "name": ch.name,
                       "created": _ts(ch.first_seen), "modified": _ts(ch.last_seen or ch.first_seen),
                       "threat_actor_types": ["crime-syndicate"], "first_seen": _ts(ch.first_seen).replace(".000Z", "Z"),
                       "description": f"Online drug shop (narcotrace channel {ch.id}): {len(ch.post_ids)} posts, "
                                      f"{len(ch.accounts)} accounts, drug money {ch.volume:,.0f} KZT"
                                      + (f"; cities {', '.join(ch.cities)}" if ch.cities else ""),
                       "labels": ['misp:galaxy-name="Threat Actor"', 'misp:galaxy-type="threat-actor"',
                                  _status_label(ch.status)],
                       "confidence": max(0, min(100, round(ch.confidence * 100)))})
        refs.append(actor)
        for iid in ch.indicator_ids:
            ind = f.indicators.get(iid)
            if ind is None:
                continue
            oid = _indicator(b, ind, f)
            if oid is None:
                continue
            done.add(iid)
            refs.append(oid)
            kind = "indicates" if oid.startswith("indicator--") else "related-to"
            refs.append(b.relate(kind, oid, actor))
        b.add({"type": "grouping", "id": stable_id("grouping", ch.id), "name": f"Drug channel {ch.name} ({ch.id})",
               "context": "suspicious-activity", "object_refs": refs,
               "description": f"narcotrace drug channel {ch.id}; "
                              + ("approved" if ch.status == APPROVED else "PROPOSED: not yet approved by a person"),
               "labels": ["Threat-Report", MISP_TOOL, _status_label(ch.status)]})
    rest = [oid for ind in f.indicators.values() if ind.id not in done and f.posts.keys() & set(ind.post_ids)
            and ind.kind in (*PATTERN_KINDS, "telegram", *COIN_SYMBOLS)
            and (oid := _indicator(b, ind, f)) is not None]
    if rest:
        b.add({"type": "grouping", "id": stable_id("grouping", "narcotrace:unattributed"),
               "name": "Drug shop indicators not (yet) attributed to a channel", "context": "suspicious-activity",
               "object_refs": rest, "labels": ["Threat-Report", MISP_TOOL]})
    bundle_id = stable_id("bundle", "|".join(sorted(b.objects)))
    return {"type": "bundle", "id": bundle_id, "objects": list(b.objects.values())}


def export(ws: Workspace, out: Path, *, proposed: bool, channel: str | None, schema: Path | None = None) -> int:
    """Write the bundle; return the number of STIX objects (without the bundle)."""
    bundle = build_bundle(load_findings(ws, proposed=proposed, channel=channel))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as e:
        raise UserError(f"--out {out}: cannot write ({e.strerror})") from e
    return len(bundle["objects"])
