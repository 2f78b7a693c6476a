"""`narcotrace channels`: build drug channels (shop + drops + collectors + cash-out) and store them in the
`channels` and `channel_members` tables; `build_channels(ws)` is what the CLI and the demo call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from narcotrace.channels.link import find_common, load_params, post_identifiers
from narcotrace.channels.money import ChannelMoney, follow_money
from narcotrace.channels.shops import Shop, build_shops
from narcotrace.console import progress
from narcotrace.errors import UserError
from narcotrace.workspace import Workspace, utcnow

VERSION = "channels-1"
ROLE_ORDER = {"drop": 0, "wallet": 1, "collector": 2, "exchanger": 3, "cash_out": 4}


@dataclass
class Channel:
    """A drug channel as stored and exported."""

    id: str
    name: str
    confidence: float
    post_ids: list[str]
    indicators: list[str]
    accounts: list[dict[str, Any]]
    volume: float
    payments: int
    payers: int
    first_seen: datetime | None
    last_seen: datetime | None
    cities: list[str]
    labels: dict[str, int]
    post_labels: dict[str, str] = field(default_factory=dict)  # post id -> sale | recruitment | none (attached)
    common_indicators: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "confidence": self.confidence, "post_ids": self.post_ids,
            "indicators": self.indicators, "accounts": self.accounts, "volume": round(self.volume, 2),
            "payments": self.payments, "payers": self.payers,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "cities": self.cities, "posts_by_label": self.labels, "shared_indicators": self.common_indicators,
        }


@dataclass
class ChannelsReport:
    """What `narcotrace channels` built: the channels and counts for the summary."""

    channels: list[Channel] = field(default_factory=list)
    common: dict[str, str] = field(default_factory=dict)  # identifier -> why it joins no shops
    shop_posts: int = 0
    below_confidence: int = 0
    out: Path | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know (missing inputs)

    @property
    def counts(self) -> dict[str, int | float]:
        roles: dict[str, int] = {r: 0 for r in ROLE_ORDER}
        for c in self.channels:
            for a in c.accounts:
                roles[a["role"]] = roles.get(a["role"], 0) + 1
        return {
            "shop posts": self.shop_posts,
            "channels": len(self.channels),
            "channels below --min-confidence": self.below_confidence,
            "shared identifiers kept from joining shops": len(self.common),
            **{f"{r.replace('_', '-')} accounts": n for r, n in roles.items()},
            "drug money attributed (KZT)": round(sum(c.volume for c in self.channels), 2),
        }

    def render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        t = Table(title="drug channels")
        for col, just in (("channel", "left"), ("name", "left"), ("posts", "right"), ("drops", "right"),
                          ("collectors", "right"), ("cash-out", "right"), ("volume KZT", "right"),
                          ("cities", "left"), ("confidence", "right")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for c in self.channels[:50]:
            n = {r: sum(a["role"] == r for a in c.accounts) for r in ROLE_ORDER}
            t.add_row(c.id, c.name, f"{len(c.post_ids):,}", f"{n['drop']:,}", f"{n['collector']:,}",
                      f"{n['exchanger'] + n['cash_out']:,}", f"{c.volume:,.0f}", ", ".join(c.cities[:3]),
                      f"{c.confidence:.2f}")
        if len(self.channels) > 50:
            t.caption = f"… and {len(self.channels) - 50} more (see --out)"
        s = Table(title="summary")
        s.add_column("what")
        s.add_column("count", justify="right")
        for k, v in self.counts.items():
            s.add_row(k, f"{v:,}")
        from rich.text import Text

        parts: list[Any] = [t, s, *(Text(n, style="yellow") for n in self.notes)]
        if self.out:
            parts.append(Text(f"written to {self.out}"))
        return Group(*parts)


def confidence(shop: Shop, money: ChannelMoney) -> float:
    """How sure the channel is: the classifier's mean score on its posts, raised by corroboration (more posts,
    drops that were paid by many different people)."""
    posts = min(1.0, len(shop.post_ids) / 5)
    paid = min(1.0, money.payers / 5)
    return round(shop.mean_score * (0.5 + 0.2 * posts + 0.3 * paid), 3)


def _channel(shop: Shop, money: ChannelMoney) -> Channel:
    members = sorted(money.members, key=lambda m: (ROLE_ORDER.get(m.role, 9), -m.volume, m.account_id))
    accounts = [{"account_id": m.account_id, "role": m.role, "score": m.score, "volume": round(m.volume, 2),
                 "evidence": m.evidence} for m in members]
    seen = [d for d in (shop.first_post, shop.last_post, money.first_payment, money.last_payment) if d is not None]
    return Channel(
        id=shop.shop_id, name=shop.name, confidence=confidence(shop, money), post_ids=shop.post_ids,
        indicators=shop.identifiers, accounts=accounts, volume=money.volume, payments=money.payments,
        payers=money.payers, first_seen=min(seen) if seen else None, last_seen=max(seen) if seen else None,
        cities=shop.cities, labels=dict(shop.labels), post_labels=shop.post_labels,
        common_indicators=shop.common)


def build_channels(ws: Workspace, *, min_confidence: float = 0.0, params: str | Path | dict | None = None,
                   out: Path | None = None) -> ChannelsReport:
    """Build every channel from the workspace's posts, indicators and transfers; replace the stored ones."""
    p = params if isinstance(params, dict) else load_params(params)
    report = ChannelsReport(out=out)
    if not ws.count("posts"):
        report.notes.append(f"workspace {ws.root} has no scanned posts: run `narcotrace scan FILE` first")
    if not ws.count("transfers"):
        report.notes.append("no transfers in the workspace: channels have posts and indicators but no money "
                            "(run `narcotrace ingest FILE`)")
    with progress() as bar:
        task = bar.add_task("channels: identifiers", total=4)
        ids = post_identifiers(ws)
        common, links = find_common(ws, ids, p["shops"])
        report.common = dict(sorted(common.reasons.items()))
        bar.update(task, advance=1, description="channels: shops")
        shops = build_shops(ws, ids, common, int(p["shops"]["min_posts"]), float(p["shops"]["attach_min_score"]))
        report.shop_posts = sum(len(s.post_ids) for s in shops)
        bar.update(task, advance=1, description="channels: money")
        post_dates = {pid: d for pid, d in ws.con.execute("SELECT post_id, date FROM posts").fetchall()} if shops else {}
        money = follow_money(ws, shops, links, common, p["money"], post_dates)
        bar.update(task, advance=1, description="channels: store")
        channels = [_channel(s, money[s.shop_id]) for s in shops]
        channels.sort(key=lambda c: (-c.volume, -len(c.post_ids), c.id))
        report.channels = [c for c in channels if c.confidence >= min_confidence]
        report.below_confidence = len(channels) - len(report.channels)
        store(ws, report.channels)
        if out is not None:
            write_json(report, out)
        bar.update(task, advance=1)
    ws.audit("channels", str(out) if out else "channels", {
        "version": VERSION, "min_confidence": min_confidence, "channels": len(report.channels),
        "below_confidence": report.below_confidence, "shop_posts": report.shop_posts,
        "volume": round(sum(c.volume for c in report.channels), 2), "common_identifiers": len(report.common)})
    return report


def store(ws: Workspace, channels: list[Channel]) -> None:
    """Replace the channels and channel_members tables with these channels (one transaction)."""
    now = utcnow()
    rows = [(c.id, c.name, c.confidence, c.volume, c.first_seen, c.last_seen, c.cities, len(c.post_ids),
             len(c.accounts), now, VERSION) for c in channels]
    members: list[tuple[Any, ...]] = []
    for c in channels:
        for post in c.post_ids:
            members.append((c.id, "post", post, c.post_labels.get(post), None, None, None))
        for ident in c.indicators:
            members.append((c.id, "indicator", ident, ident.split(":", 1)[0], None, None, None))
        for a in c.accounts:
            members.append((c.id, "account", a["account_id"], a["role"], a["score"], a["volume"],
                            json.dumps(a["evidence"], ensure_ascii=False, default=str)))
    frame = pd.DataFrame(members, columns=["channel_id", "member_kind", "member_id", "role", "score", "volume",
                                           "evidence"])
    with ws.transaction(_ch_members=frame) as con:
        con.execute("DELETE FROM channel_members")
        con.execute("DELETE FROM channels")
        if rows:
            con.executemany("INSERT INTO channels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        if members:
            con.execute("INSERT INTO channel_members SELECT channel_id, member_kind, member_id, role, score, volume, "
                        "CAST(evidence AS JSON) FROM _ch_members")


def write_json(report: ChannelsReport, out: Path) -> None:
    """{"channels": [...]} with one object per channel (the contract in issue 5)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"version": VERSION, "channels": [c.to_json() for c in report.channels]},
                                  ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    except OSError as e:
        raise UserError(f"--out {out}: cannot write ({e.strerror})") from e
