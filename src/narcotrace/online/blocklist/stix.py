"""STIX 2.1 bundle of indicators (stix2): domain-name and url patterns, Telegram handles as user-account."""

from __future__ import annotations

import uuid
from pathlib import Path

import stix2

from narcotrace import __version__
from narcotrace.workspace import utcnow

_NAMESPACE = uuid.UUID("6f7d1c52-3a55-4d0e-9a57-8a3f1c1b9e21")


def stable_id(kind: str, name: str) -> str:
    """The same shop indicator keeps its STIX id across exports, so consumers update rather than duplicate.
    STIX 2.1 wants UUIDv4 for domain objects: a name-based hash with the version-4 bits set is one."""
    return f"{kind}--{uuid.UUID(bytes=uuid.uuid5(_NAMESPACE, name).bytes, version=4)}"


IDENTITY = stix2.Identity(
    id=stable_id("identity", "narcotrace"),
    name="narcotrace", identity_class="system",
    description="narcotrace: finds online drug shops; indicators approved by analysts unless labelled proposed",
    created="2026-01-01T00:00:00Z", modified="2026-01-01T00:00:00Z",
)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(kind: str, value: str) -> str:
    if kind in ("domain", "onion"):
        return f"[domain-name:value = {_quote(value)}]"
    if kind == "url":
        return f"[url:value = {_quote(value)}]"
    if kind == "telegram":
        return (f"[user-account:account_login = {_quote(value)} AND "
                f"user-account:account_type = 'telegram']")
    raise ValueError(f"no STIX pattern for {kind}")


def indicator(e) -> stix2.Indicator:
    captured = [t for t in e.captured_at if t]
    evidence = "; ".join(f"post {p} ({u}, captured {t.isoformat(timespec='seconds') if t else '?'}Z, sha256 {h})"
                         for p, u, t, h in list(zip(e.post_ids, e.source_urls, e.captured_at, e.sha256s))[:20])
    return stix2.Indicator(
        id=stable_id("indicator", e.canonical_id),
        created_by_ref=IDENTITY.id,
        name=f"{e.kind} {e.value} of an online drug shop",
        description=(("Approved by " + ", ".join(e.reviewers) if e.status == "approved"
                      else "PROPOSED: not yet approved by a person") + f". Score {e.score:.2f}. Evidence: {evidence}"),
        indicator_types=["malicious-activity"],
        pattern=pattern(e.kind, e.value),
        pattern_type="stix",
        valid_from=min(captured) if captured else utcnow(),
        labels=["drug-shop", e.status],
        confidence=95 if e.status == "approved" else max(0, min(100, round(e.score * 100))),
    )


def bundle(entries: list) -> stix2.Bundle:
    return stix2.Bundle(objects=[IDENTITY, *[indicator(e) for e in entries]])


def write(entries: list, out: Path, *, proposed: bool) -> int:
    out.write_text(bundle(entries).serialize(pretty=True), encoding="utf-8")
    return len(entries)
