"""Link what ads say to what the money pillar knows: each post's identifiers, the common ones that must not
join shops, and the accounts behind an identifier.

An identifier is *common* (it names many unrelated things, so it must not merge shops) when
- it appears in at least `min_ordinary_posts` posts that are neither sale nor recruitment (a marketplace
  handle, a bank's hotline, the chat a shop also posts in), and those are at least `ordinary_share` of
  the posts naming it; or
- it is a payment identifier whose account is an exchanger, a cash point or a business, or whose account has
  more distinct payers than `max_account_payers` (a big merchant: legitimately paid by half the city); or
- it is a *bridge*: removing it splits the shop posts that name it into two or more groups of at least
  `bridge_min_posts` posts each, and in none of those groups does it appear in more than
  `bridge_max_share` of the posts (a popular exchanger named now and then by two shops, never a shop's own
  handle, which appears in most of its posts).
The thresholds live in `channels.yaml` beside this module.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from narcotrace import identifiers
from narcotrace.workspace import Workspace

PARAMS_FILE = Path(__file__).with_name("channels.yaml")
SHOP_LABELS = ("sale", "recruitment")
PAYMENT_KINDS = ("card", "phone", "iban")
CRYPTO_KINDS = ("btc", "eth", "tron", "ltc", "xmr")
# kinds that say who the shop is or where it takes money; urls are covered by their domain
LINK_KINDS = ("telegram", "domain", "onion", "email", *PAYMENT_KINDS, *CRYPTO_KINDS)
_TME_POST = re.compile(r"^https?://(?:t\.me|telegram\.me|telegram\.dog)/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/\d+",
                       re.I)


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """Builder parameters: the shipped defaults, overridden key by key by a user's YAML file."""
    params = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))
    if path:
        user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for section, values in user.items():
            params.setdefault(section, {}).update(values or {})
    return params


def posted_in(url: str | None) -> str | None:
    """`telegram:handle` of the public channel a t.me post link points into, else None."""
    if not url:
        return None
    m = _TME_POST.match(url)
    return identifiers.telegram(m.group(1)) if m else None


def post_identifiers(ws: Workspace) -> pd.DataFrame:
    """(post_id, identifier, kind, label, posted_in) for every post: indicators in its text, plus the channel
    it was posted in (a t.me post link; posted_in=True). Where a post appeared never joins shops by itself
    (job and flea-market chats carry ads of many shops); it names the shop's own channel (see shops.py)."""
    kinds = ", ".join(f"'{k}'" for k in LINK_KINDS)
    found = ws.con.execute(f"""
        SELECT DISTINCT i.post_id, i.canonical_id AS identifier, split_part(i.canonical_id, ':', 1) AS kind,
               coalesce(p.label, 'none') AS label, false AS posted_in
        FROM indicators i JOIN posts p USING (post_id)
        WHERE i.canonical_id IS NOT NULL AND split_part(i.canonical_id, ':', 1) IN ({kinds})""").df()
    urls = ws.con.execute("SELECT post_id, url, coalesce(label, 'none') AS label FROM posts WHERE url IS NOT NULL").df()
    rows = [(r.post_id, h, "telegram", r.label, True) for r in urls.itertuples(index=False)
            if (h := posted_in(r.url)) is not None]
    extra = pd.DataFrame(rows, columns=["post_id", "identifier", "kind", "label", "posted_in"])
    out = pd.concat([found, extra], ignore_index=True) if len(extra) else found
    # a handle both named in the text and posted in: the text counts (it links)
    out = out.sort_values(["post_id", "identifier", "posted_in"], kind="stable")
    return out.drop_duplicates(["post_id", "identifier"]).reset_index(drop=True)


@dataclass
class CommonIdentifiers:
    """Identifiers kept from joining shops, each with the reason (shown in the channel's evidence)."""

    reasons: dict[str, str] = field(default_factory=dict)

    def __contains__(self, identifier: str) -> bool:
        return identifier in self.reasons

    def add(self, identifier: str, reason: str) -> None:
        self.reasons.setdefault(identifier, reason)


def common_by_posts(ids: pd.DataFrame, p: dict[str, Any], common: CommonIdentifiers) -> None:
    """Identifiers seen in many ordinary posts, or more in ordinary posts than in shop posts."""
    shop = ids["label"].isin(SHOP_LABELS)
    counts = ids.assign(shop=shop).groupby("identifier")["shop"].agg(["sum", "count"])
    ordinary = counts["count"] - counts["sum"]
    for ident, n_ord, n_shop in zip(counts.index, ordinary, counts["sum"]):
        # a share, not a count alone: the classifier misses a few of a shop's own ads, which must not make
        # the shop's handle "common"
        if n_ord >= p["min_ordinary_posts"] and n_ord >= p["ordinary_share"] * (n_ord + n_shop):
            common.add(ident, f"in {n_ord} ordinary posts (and {n_shop} shop posts)")


def identifier_accounts(ws: Workspace, idents: list[str]) -> pd.DataFrame:
    """(identifier, account_id) for payment and crypto identifiers: account_identifiers, and wallets whose
    account id is the canonical wallet id itself."""
    if not idents:
        return pd.DataFrame(columns=["identifier", "account_id"])
    ws.con.register("_ch_idents", pd.DataFrame({"identifier": sorted(set(idents))}))
    try:
        return ws.con.execute("""
            SELECT DISTINCT x.identifier, x.account_id FROM account_identifiers x SEMI JOIN _ch_idents i USING (identifier)
            UNION
            SELECT a.account_id, a.account_id FROM accounts a JOIN _ch_idents i ON a.account_id = i.identifier
            ORDER BY 1, 2""").df()
    finally:
        ws.con.unregister("_ch_idents")


def common_by_accounts(ws: Workspace, links: pd.DataFrame, p: dict[str, Any], common: CommonIdentifiers) -> None:
    """Payment identifiers of exchangers, cash points, businesses and accounts paid by very many people."""
    if links.empty:
        return
    ws.con.register("_ch_links", links)
    try:
        rows = ws.con.execute("""
            WITH acc AS (SELECT DISTINCT account_id FROM _ch_links),
            payers AS (SELECT t.to_account AS account_id, count(DISTINCT t.from_account) AS n
                       FROM transfers t SEMI JOIN acc ON t.to_account = acc.account_id GROUP BY 1)
            SELECT acc.account_id, a.kind, a.holder_kind, coalesce(payers.n, 0)
            FROM acc LEFT JOIN accounts a USING (account_id) LEFT JOIN payers USING (account_id)""").fetchall()
    finally:
        ws.con.unregister("_ch_links")
    hub: dict[str, str] = {}
    for account_id, kind, holder_kind, payers in rows:
        if kind in ("exchanger", "cash"):
            hub[account_id] = f"account {account_id} is an exchanger or cash point"
        elif holder_kind == "business":
            hub[account_id] = f"account {account_id} belongs to a business"
        elif payers > p["max_account_payers"]:
            hub[account_id] = f"account {account_id} is paid by {payers} people"
    for ident, account_id in zip(links["identifier"], links["account_id"]):
        if account_id in hub:
            common.add(ident, hub[account_id])


def common_bridges(ids: pd.DataFrame, p: dict[str, Any], common: CommonIdentifiers) -> None:
    """Identifiers that alone hold together groups of shop posts which share nothing else."""
    shop = ids[ids["label"].isin(SHOP_LABELS) & ~ids["posted_in"] & ~ids["identifier"].map(common.__contains__)]
    posts_of: dict[str, set[str]] = defaultdict(set)
    ids_of: dict[str, set[str]] = defaultdict(set)
    for post, ident in zip(shop["post_id"], shop["identifier"]):
        posts_of[ident].add(post)
        ids_of[post].add(ident)
    for ident in sorted(posts_of, key=lambda i: (-len(posts_of[i]), i)):
        mine = posts_of[ident]
        if len(mine) < 2:  # named once: it cannot join anything
            continue
        groups = _groups_without(ident, mine, posts_of, ids_of, common, p["bridge_max_posts"])
        big = [g for g in groups if len(g) >= p["bridge_min_posts"]]
        if len(big) >= 2 and all(len(g & mine) / len(g) <= p["bridge_max_share"] for g in big):
            common.add(ident, f"only link between {len(big)} groups of shop posts "
                              f"({', '.join(str(len(g)) for g in big)} posts)")


def _groups_without(ident: str, mine: set[str], posts_of: dict[str, set[str]], ids_of: dict[str, set[str]],
                    common: CommonIdentifiers, max_posts: int) -> list[set[str]]:
    """Connected groups of shop posts reachable from `mine` when `ident` is taken out (bounded search)."""
    seen: set[str] = set()
    groups = []
    for start in sorted(mine):
        if start in seen:
            continue
        group, stack = {start}, [start]
        seen.add(start)
        while stack and len(group) <= max_posts:
            post = stack.pop()
            for other in ids_of[post]:
                if other == ident or other in common:
                    continue
                for q in posts_of[other]:
                    if q not in seen:
                        seen.add(q)
                        group.add(q)
                        stack.append(q)
        groups.append(group)
    return groups


def find_common(ws: Workspace, ids: pd.DataFrame, p: dict[str, Any]) -> tuple[CommonIdentifiers, pd.DataFrame]:
    """All common identifiers, and the (identifier, account_id) links of the payment ones in shop posts."""
    common = CommonIdentifiers()
    common_by_posts(ids, p, common)
    pay = ids[ids["label"].isin(SHOP_LABELS) & ids["kind"].isin(PAYMENT_KINDS + CRYPTO_KINDS)]
    links = identifier_accounts(ws, pay["identifier"].tolist())
    common_by_accounts(ws, links, p, common)
    common_bridges(ids, p, common)
    return common, links
