"""`build_report(ws, out, channel=None)`: one self-contained HTML file of the findings that works offline.

Key figures, SVG charts (drawn here), an interactive graph of each drug channel (Cytoscape.js, vendored and
inlined), and the evidence: posts with the spans that drove their score, indicators, accounts with roles, scores
and evidence transfer ids. Everything a post says is escaped (Jinja2 autoescape); scripts run only if their hash
is in the page's Content-Security-Policy, which also forbids every network request.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from narcotrace import __version__
from narcotrace.errors import UserError
from narcotrace.export.findings import APPROVED, Channel, Findings, load_findings
from narcotrace.report import charts
from narcotrace.report.highlight import pieces
from narcotrace.workspace import Workspace, utcnow

HERE = Path(__file__).parent
ROLE_COLOURS = {"shop": "#1a202c", "handle": "#3182ce", "bot": "#63b3ed", "site": "#805ad5", "payment": "#d69e2e",
                "buyers": "#a0aec0", "drop": "#e53e3e", "wallet": "#dd6b20", "collector": "#9b2c2c",
                "exchanger": "#2f855a", "cash_out": "#276749"}
ROLE_NAMES = {"shop": "shop", "handle": "handle", "bot": "bot", "site": "site", "payment": "payment detail",
              "buyers": "buyers", "drop": "drop", "wallet": "wallet", "collector": "collector",
              "exchanger": "exchanger", "cash_out": "cash-out"}
COLUMNS = {"shop": 0, "handle": 1, "bot": 1, "site": 1, "payment": 2, "buyers": 3, "drop": 4, "wallet": 4,
           "collector": 5, "exchanger": 6, "cash_out": 6}
MAX_ROWS = 9  # a column with more nodes wraps into sub-columns, so big channels stay readable when fitted
PAYMENT_PREFIXES = ("card", "phone", "iban", "btc", "eth", "tron", "ltc", "xmr")
MAX_POSTS_PER_CHANNEL = 150


def _indicator_role(kind: str, is_bot: bool) -> str:
    if kind == "telegram":
        return "bot" if is_bot else "handle"
    return "payment" if kind in PAYMENT_PREFIXES else "site"


def channel_graph(ch: Channel, f: Findings) -> dict[str, Any]:
    """Cytoscape elements (nodes with preset positions by role column, edges with amounts) of one channel."""
    nodes: list[dict[str, Any]] = [{"id": "shop", "label": ch.name, "role": "shop",
                                    "info": f"channel {ch.id}; confidence {ch.confidence:.2f}"}]
    edges: list[dict[str, Any]] = []
    for iid in ch.indicator_ids:
        ind = f.indicators.get(iid)
        if ind is None:
            continue
        role = _indicator_role(ind.kind, ind.is_bot)
        nodes.append({"id": iid, "label": ind.value if ind.kind != "telegram" else "@" + ind.value, "role": role,
                      "info": f"{iid}; named in {len(ind.post_ids)} posts; {ind.status}"})
        edges.append({"source": "shop", "target": iid, "label": "", "weight": 1})
    members = set(ch.accounts)
    for aid, m in ch.accounts.items():
        acc = f.accounts.get(aid)
        label = (acc.holder_name if acc and acc.holder_name else aid)
        nodes.append({"id": "acc:" + aid, "label": label[:28], "role": m["role"] if m["role"] in COLUMNS else "drop",
                      "info": f"{aid}; {m['role']}; {float(m.get('volume') or 0):,.0f} KZT attributed"
                              + (f"; bank {acc.bank}" if acc and acc.bank else "")})
    for ident, aid in f.identifies:
        if aid in members and any(n["id"] == ident for n in nodes):
            edges.append({"source": ident, "target": "acc:" + aid, "label": "", "weight": 1})
    flows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    buyers: dict[str, tuple[set[str], float]] = {}
    for t in f.transfers.values():
        amount = float(t.amount_base if t.amount_base is not None else t.amount or 0)
        if t.to_account in members and t.from_account not in members and t.kind == "drug_payment" \
                and ch.id in t.drug_channels:
            payers, total = buyers.get(t.to_account, (set(), 0.0))
            payers.add(t.from_account)
            buyers[t.to_account] = (payers, total + amount)
        elif t.from_account in members and t.to_account in members:
            flow = flows[(t.from_account, t.to_account)]
            flow[0] += amount
            flow[1] += 1
    for drop, (payers, total) in buyers.items():
        nid = "buyers:" + drop
        nodes.append({"id": nid, "label": f"{len(payers)} buyers", "role": "buyers",
                      "info": f"{len(payers)} buyers paid {total:,.0f} KZT into {drop}"})
        edges.append({"source": nid, "target": "acc:" + drop, "label": charts.short(total), "weight": total})
    for (src, dst), (amount, count) in flows.items():
        edges.append({"source": "acc:" + src, "target": "acc:" + dst, "label": charts.short(amount), "weight": amount,
                      "count": count})
    by_col: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for n in nodes:
        by_col[COLUMNS.get(n["role"], 4)].append(n)
    x = 0.0
    for col in sorted(by_col):
        group = by_col[col]
        subs = -(-len(group) // MAX_ROWS)
        rows = -(-len(group) // subs)
        for i, n in enumerate(group):
            sub, row = divmod(i, rows)
            n["x"] = x + sub * 110
            n["y"] = (row - (rows - 1) / 2) * 62 + (sub % 2) * 18
            n["colour"] = ROLE_COLOURS.get(n["role"], "#718096")
        x += (subs - 1) * 110 + 200
    top = max((e["weight"] for e in edges), default=1) or 1
    for i, e in enumerate(edges):
        e["id"] = f"e{i}"
        e["width"] = 1.5 + 6 * (e["weight"] / top) ** 0.5 if e["label"] else 1.2
    return {"nodes": nodes, "edges": edges}


def _scope_posts(ws: Workspace, f: Findings, channel: str | None) -> dict[str, int]:
    if channel is None:
        return dict(ws.con.execute("SELECT coalesce(label, 'none'), count(*) FROM posts GROUP BY 1").fetchall())
    return dict(Counter(p.label for p in f.posts.values()))


def _block_entries(ws: Workspace, f: Findings, channel: str | None) -> list[Any]:
    from narcotrace.online.blocklist import select_entries

    entries = select_entries(ws, proposed=True)
    if channel is not None:
        mine = set(f.posts)
        entries = [e for e in entries if mine & set(e.post_ids)]
    return entries


def _city_amounts(f: Findings) -> list[tuple[str, float]]:
    """Each channel's drug money split over the cities its ads name, in proportion to the ads naming each."""
    from narcotrace.channels.shops import CityFinder

    finder = CityFinder()
    out: dict[str, float] = defaultdict(float)
    for ch in f.channels.values():
        named: Counter[str] = Counter()
        for pid in ch.post_ids:
            if pid in f.posts:
                named.update(finder.find(f.posts[pid].text))
        if not named:
            named = Counter({c: 1 for c in ch.cities})
        total = sum(named.values())
        for city, n in named.items():
            out[city] += ch.volume * n / total
    return [(c, v) for c, v in out.items() if v > 0]


def _days(dates: list[date]) -> list[date]:
    if not dates:
        return []
    lo, hi = min(dates), max(dates)
    return [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]


def context(ws: Workspace, channel: str | None) -> dict[str, Any]:
    """Everything the template shows."""
    f = load_findings(ws, proposed=True, channel=channel)
    labels = _scope_posts(ws, f, channel)
    entries = _block_entries(ws, f, channel)
    block = Counter(e.kind for e in entries)
    drops = [(aid, m) for ch in f.channels.values() for aid, m in ch.accounts.items() if m["role"] in ("drop", "wallet")]
    scope_accounts = set(f.accounts) if channel is None else {a for ch in f.channels.values() for a in ch.accounts}
    alerts = [a.alert for a in f.accounts.values() if a.alert and a.id in scope_accounts
              and a.alert["status"] != "dismissed"]
    figures = [
        {"label": "posts scanned" if channel is None else "posts of this channel", "value": f"{sum(labels.values()):,}",
         "sub": f"{labels.get('sale', 0):,} sale · {labels.get('recruitment', 0):,} recruitment", "id": "posts"},
        {"label": "drug channels found", "value": f"{len(f.channels):,}",
         "sub": f"{sum(c.status == APPROVED for c in f.channels.values())} approved by a person", "id": "channels"},
        {"label": "sites and handles proposed for blocking",
         "value": f"{block['domain'] + block['onion'] + block['url'] + block['telegram']:,}",
         "sub": f"{block['domain'] + block['onion']} domains · {block['url']} URLs · {block['telegram']} handles; "
                f"{sum(e.status == 'approved' for e in entries)} approved", "id": "blocking"},
        {"label": "drop accounts proposed for freezing", "value": f"{len({a for a, _ in drops}):,}",
         "sub": f"{sum(float(m.get('volume') or 0) for _, m in drops):,.0f} KZT of drug money through them",
         "id": "freezing"},
        {"label": "drug money attributed", "value": f"{sum(c.volume for c in f.channels.values()):,.0f} KZT",
         "sub": f"{sum(len(c.accounts) for c in f.channels.values())} accounts in the channels", "id": "volume"},
        {"label": "money alerts open", "value": f"{len(alerts):,}",
         "sub": f"{sum(a['status'] == 'confirmed' for a in alerts)} confirmed by a person", "id": "alerts"},
    ]
    # charts
    ad_days: dict[date, Counter[str]] = defaultdict(Counter)
    for p in f.posts.values():
        if p.date and p.label in ("sale", "recruitment"):
            ad_days[p.date.date()][p.label] += 1
    pay_days: dict[date, float] = defaultdict(float)
    for t in f.transfers.values():
        if t.kind == "drug_payment" and t.timestamp:
            pay_days[t.timestamp.date()] += float(t.amount_base if t.amount_base is not None else t.amount or 0)
    days = _days(list(ad_days) + list(pay_days))
    chart_ads = charts.daily_bars(days, [("sale ads", "#c53030", [ad_days[d]["sale"] for d in days]),
                                         ("recruitment", "#d69e2e", [ad_days[d]["recruitment"] for d in days])],
                                  title="Ads per day", unit=" posts", counts=True)
    chart_pay = charts.daily_bars(days, [("drug payments", "#2b6cb0", [pay_days[d] for d in days])],
                                  title="Drug payments per day (KZT)", unit=" KZT")
    chart_city = charts.horizontal_bars(_city_amounts(f), title="Drug money by city (KZT)", unit=" KZT",
                                        colour="#2c7a7b")
    chart_channels = charts.horizontal_bars([(c.name, c.volume) for c in f.channels.values()],
                                            title="Drug money by channel (KZT)", unit=" KZT", colour="#c53030")
    # channels
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for ind in f.indicators.values():
        for pid, s, e in ind.spans:
            spans[pid].append((s, e, ind.id))
    channels = []
    for ch in f.channels.values():
        roles = Counter(m["role"] for m in ch.accounts.values())
        posts = [f.posts[p] for p in ch.post_ids if p in f.posts]
        posts.sort(key=lambda p: (p.date or datetime.min, p.id))
        accounts = []
        for aid, m in sorted(ch.accounts.items(), key=lambda kv: (COLUMNS.get(kv[1]["role"], 9), -float(kv[1].get("volume") or 0))):
            acc = f.accounts.get(aid)
            ev = m.get("evidence") or {}
            tids = list(ev.get("payment_ids") or []) + list(ev.get("transfer_ids") or [])
            accounts.append({"id": aid, "role": m["role"], "score": m.get("score"), "volume": float(m.get("volume") or 0),
                             "bank": acc.bank if acc else None, "holder": acc.holder_name if acc else None,
                             "status": acc.status if acc else "proposed",
                             "alert": acc.alert if acc else None, "transfers": tids[:12], "more": max(0, len(tids) - 12),
                             "identifiers": acc.identifiers if acc else []})
        channels.append({
            "id": ch.id, "name": ch.name, "status": ch.status, "confidence": ch.confidence, "volume": ch.volume,
            "first_seen": ch.first_seen, "last_seen": ch.last_seen, "cities": ch.cities, "roles": roles,
            "graph": channel_graph(ch, f),
            "indicators": [f.indicators[i] for i in ch.indicator_ids if i in f.indicators],
            "accounts": accounts,
            "posts": [{"post": p, "pieces": pieces(p.text, p.explanation, spans.get(p.id, []))}
                      for p in posts[:MAX_POSTS_PER_CHANNEL]],
            "posts_more": max(0, len(posts) - MAX_POSTS_PER_CHANNEL),
        })
    outside = []
    if channel is None:
        in_channels = {a for ch in f.channels.values() for a in ch.accounts}
        outside = sorted((a for a in f.accounts.values() if a.alert and a.id not in in_channels
                          and a.alert["status"] != "dismissed"), key=lambda a: -(a.score or 0))[:25]
    models = sorted({p.model_version for p in f.posts.values() if p.model_version}
                    | {a.alert["model_version"] for a in f.accounts.values() if a.alert and a.alert.get("model_version")})
    return {
        "title": "narcotrace report" + (f" — channel {f.channels[channel].name}" if channel else ""),
        "generated_at": utcnow().strftime("%Y-%m-%d %H:%M UTC"), "workspace": str(ws.root), "version": __version__,
        "channel_filter": channel, "models": models, "figures": figures, "chart_ads": chart_ads,
        "chart_pay": chart_pay, "chart_city": chart_city, "chart_channels": chart_channels, "channels": channels,
        "block_entries": entries[:200], "block_more": max(0, len(entries) - 200), "outside": outside,
        "role_colours": ROLE_COLOURS, "role_names": ROLE_NAMES, "counts": f.counts,
    }


def _script_hash(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii") + "'"


def render(ctx: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(str(HERE)), autoescape=select_autoescape(["html"], default=True))
    vendor = resources.files("narcotrace.report").joinpath("vendor/cytoscape.min.js").read_text(encoding="utf-8")
    app = (HERE / "report.js").read_text(encoding="utf-8")
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           f"script-src {_script_hash(vendor)} {_script_hash(app)}; connect-src 'none'; form-action 'none'; "
           "base-uri 'none'")
    return env.get_template("template.html").render(**ctx, csp=csp, vendor_js=Markup(vendor), app_js=Markup(app))


def build_report(ws: Workspace, out: str | Path, channel: str | None = None) -> Path:
    """Write the report to `out` (one HTML file, no external resources) and audit it; return its path."""
    out = Path(out)
    ctx = context(ws, channel)
    html = render(ctx)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as e:
        raise UserError(f"--out {out}: cannot write ({e.strerror})") from e
    ws.audit("report", str(out), {"channel": channel, "channels": len(ctx["channels"]), **ctx["counts"],
                                  "bytes": len(html.encode("utf-8"))})
    return out
