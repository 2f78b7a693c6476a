"""Shops: sale and recruitment posts clustered by the identifiers they share (connected components of the
post-identifier graph, with common identifiers taken out so they cannot merge unrelated shops)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

from narcotrace.channels.link import SHOP_LABELS, CommonIdentifiers
from narcotrace.workspace import Workspace

CITIES_FILE = Path(__file__).with_name("cities.yaml")
# strongest first: what names the shop itself beats how it takes money (drops rotate, handles stay)
ID_STRENGTH = {"telegram": 0, "onion": 1, "domain": 2, "email": 3, "tron": 4, "btc": 4, "eth": 4, "ltc": 4,
               "xmr": 4, "card": 5, "phone": 5, "iban": 5}


@dataclass
class Shop:
    """A cluster of shop posts and the identifiers that tie them together."""

    shop_id: str
    post_ids: list[str]
    identifiers: list[str]  # canonical ids named in its posts, common ones excluded
    common: list[str]  # common identifiers its posts name (kept for evidence, not for linking)
    name: str
    labels: Counter = field(default_factory=Counter)
    mean_score: float = 0.0
    first_post: datetime | None = None
    last_post: datetime | None = None
    cities: list[str] = field(default_factory=list)
    posts_of: dict[str, list[str]] = field(default_factory=dict)  # identifier -> post ids naming it
    post_labels: dict[str, str] = field(default_factory=dict)  # none: a doubted post attached by its identifiers


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller name wins so the result does not depend on the order of unions
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def cluster_posts(ids: pd.DataFrame, posts: pd.DataFrame, common: CommonIdentifiers) -> list[list[str]]:
    """Connected components of shop posts over shared non-common identifiers named in their text, each
    sorted, largest first."""
    uf = _UnionFind()
    for post in posts["post_id"]:
        uf.find(post)
    shop = ids[ids["post_id"].isin(set(posts["post_id"])) & ~ids["posted_in"]]
    first_post: dict[str, str] = {}
    for post, ident in sorted(zip(shop["post_id"], shop["identifier"])):
        if ident in common:
            continue
        if ident in first_post:
            uf.union(first_post[ident], post)
        else:
            first_post[ident] = post
    groups: dict[str, list[str]] = {}
    for post in sorted(posts["post_id"]):
        groups.setdefault(uf.find(post), []).append(post)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def attach_doubtful(groups: list[list[str]], ids: pd.DataFrame, doubtful: set[str], common: CommonIdentifiers
                    ) -> list[list[str]]:
    """Add posts the classifier doubted (labelled none, but not clearly ordinary) that name an identifier of
    exactly one shop, one named in at least two of its posts: the classifier misses some of a shop's own ads,
    and the shop's handle or drop card in them says whose they are."""
    text = ids[~ids["posted_in"] & ~ids["identifier"].map(common.__contains__)]
    owner: dict[str, int] = {}
    counts: Counter = Counter()
    member = {p: g for g, posts in enumerate(groups) for p in posts}
    for post, ident in zip(text["post_id"], text["identifier"]):
        if post in member:
            counts[(ident, member[post])] += 1
    for (ident, g), n in counts.items():
        if n >= 2:
            owner[ident] = g if owner.get(ident, g) == g else -1  # -1: named by two shops, says nothing
    extra: dict[str, set[int]] = {}  # doubted post -> shops (group indexes) whose identifiers it names
    for post, ident in zip(text["post_id"], text["identifier"]):
        if post in doubtful and owner.get(ident, -1) >= 0:
            extra.setdefault(post, set()).add(owner[ident])
    out = [list(g) for g in groups]
    for post, gs in sorted(extra.items()):
        if len(gs) == 1:
            out[gs.pop()].append(post)
    return [sorted(g) for g in out]


def shop_key(identifiers: list[str], posts_of: dict[str, list[str]], post_ids: list[str]) -> str:
    """The identifier the channel id derives from: the strongest kind, then the one in most posts."""
    if not identifiers:
        return "post:" + post_ids[0]
    return min(identifiers, key=lambda i: (ID_STRENGTH.get(i.split(":", 1)[0], 9), -len(posts_of[i]), i))


def channel_id_for(key: str) -> str:
    """Stable id: the same strongest identifier gives the same channel id in every run and workspace."""
    return "ch-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


class CityFinder:
    """Cities named in a text, by any of their spellings (Russian and its cases, Kazakh, English, translit)."""

    def __init__(self, path: Path = CITIES_FILE) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.names: dict[str, str] = {}
        for city, spellings in data.items():
            for s in spellings:
                self.names[s.lower()] = city
        alts = sorted(self.names, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(a) for a in alts) + r")(?![\w-])")

    def find(self, text: str) -> set[str]:
        return {self.names[m.group(1)] for m in self.pattern.finditer(text.lower())}


def build_shops(ws: Workspace, ids: pd.DataFrame, common: CommonIdentifiers, min_posts: int = 1,
                attach_min_score: float = 0.2) -> list[Shop]:
    """Shops from the workspace's sale and recruitment posts (and doubted posts that name one shop)."""
    labels = ", ".join(f"'{x}'" for x in SHOP_LABELS)
    posts = ws.con.execute(f"""
        SELECT post_id, label, coalesce(score, 0) AS score, date, channel, coalesce(text, '') AS text
        FROM posts WHERE label IN ({labels}) ORDER BY post_id""").df()
    if posts.empty:
        return []
    doubtful = ws.con.execute(f"""
        SELECT post_id, coalesce(label, 'none') AS label, coalesce(score, 0) AS score, date, channel,
               coalesce(text, '') AS text
        FROM posts WHERE coalesce(label, 'none') NOT IN ({labels}) AND score >= ? ORDER BY post_id""",
                              [attach_min_score]).df()
    chat_posts = dict(ws.con.execute("SELECT channel, count(*) FROM posts WHERE channel IS NOT NULL GROUP BY 1").fetchall())
    groups = attach_doubtful(cluster_posts(ids, posts, common), ids, set(doubtful["post_id"]), common)
    posts = pd.concat([posts, doubtful[doubtful["post_id"].isin({p for g in groups for p in g})]], ignore_index=True)
    by_post = posts.set_index("post_id")
    shop_ids = ids[ids["post_id"].isin(set(posts["post_id"]))]
    ids_by_post: dict[str, list[str]] = {}
    for post, ident in zip(shop_ids["post_id"], shop_ids["identifier"]):
        ids_by_post.setdefault(post, []).append(ident)
    posted_in = set(ids.loc[ids["posted_in"], "identifier"])
    chat_size = ids[ids["posted_in"]].groupby("identifier")["post_id"].nunique().to_dict()
    cities = CityFinder()
    shops = []
    for group in groups:
        if len(group) < min_posts:
            continue
        posts_of: dict[str, list[str]] = {}
        for post in group:
            for ident in ids_by_post.get(post, []):
                posts_of.setdefault(ident, []).append(post)
        # a channel the shop posted in is its own when at least 80 % of that channel's posts are this shop's
        own = sorted(i for i in posts_of if i not in common and (
            i not in posted_in or len(posts_of[i]) >= 0.8 * chat_size.get(i, 0)))
        rows = by_post.loc[group]
        scored = rows[rows["label"].isin(SHOP_LABELS)]
        dates = rows["date"].dropna()
        key = shop_key(own, posts_of, group)
        named: Counter = Counter()
        for text in rows["text"]:
            named.update(cities.find(text))
        shops.append(Shop(
            shop_id=channel_id_for(key), post_ids=group, identifiers=own,
            common=sorted(i for i in posts_of if i in common or i not in own), name=_name(key, rows, chat_posts),
            labels=Counter(rows["label"]), post_labels=dict(zip(rows.index, rows["label"])), mean_score=float(scored["score"].mean()) if len(scored) else 0.0,
            first_post=dates.min().to_pydatetime() if len(dates) else None,
            last_post=dates.max().to_pydatetime() if len(dates) else None,
            cities=[c for c, _ in named.most_common()], posts_of=posts_of))
    return shops


def _name(key: str, rows: pd.DataFrame, chat_posts: dict[str, int]) -> str:
    """The brand when the shop has a chat of its own (at least 80 % of that chat's posts are this shop's,
    and it holds several of them), else its main handle or site."""
    own = Counter(c for c in rows["channel"].dropna() if not c.lower().endswith(".onion"))
    for chat, n in own.most_common():
        if n >= 2 and n >= 0.8 * chat_posts.get(chat, n):
            return str(chat)
    kind, _, value = key.partition(":")
    return "@" + value if kind == "telegram" else value
