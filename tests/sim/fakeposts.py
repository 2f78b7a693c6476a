"""A tiny stand-in for narcotrace.sim.posts with the same interface, so the world's money side can be tested
on its own: each shop posts 1-2 ads a day in a city it serves, naming the drops active that day."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from narcotrace import identifiers
from narcotrace.sim.model import Ad


@dataclass
class PostsResult:
    posts: list[dict] = field(default_factory=list)
    ads: list[Ad] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)


def generate_posts(rng, shops, *, start, days, n_ordinary, cities) -> PostsResult:
    r = PostsResult()
    for s in shops:
        for d in range(days):
            for _ in range(int(rng.integers(1, 3))):
                date = start + timedelta(days=d, seconds=int(rng.integers(0, 86_400)))
                active = [sp for sp in s.drops if sp.start <= date < sp.end]
                if not active:
                    continue
                pid = f"fake-{len(r.posts):06d}"
                named = active[: int(rng.integers(1, len(active) + 1))]
                text = f"{s.brand}: меф 1г 20000 тг " + " ".join(sp.card or sp.phone for sp in named)
                r.posts.append({"id": pid, "text": text, "channel": s.handles[0], "author": s.handles[0],
                                "date": date.isoformat(), "label": "sale", "channel_id": s.shop_id})
                for sp in named:
                    if sp.card:
                        r.indicators.append({"post_id": pid, "kind": "card", "value": sp.card,
                                             "canonical_id": identifiers.card(sp.card), "account_id": sp.account_id})
                    if sp.phone:
                        r.indicators.append({"post_id": pid, "kind": "phone", "value": sp.phone,
                                             "canonical_id": identifiers.phone(sp.phone), "account_id": sp.account_id})
                r.ads.append(Ad(pid, s.shop_id, date, str(rng.choice(s.cities)), [sp.account_id for sp in named],
                                {"mephedrone:1g": 20_000}))
    for i in range(n_ordinary):
        r.posts.append({"id": f"fake-o{i:06d}", "text": "Продам велосипед", "channel": "baraholka",
                        "author": "user", "date": (start + timedelta(days=int(rng.integers(0, days)))).isoformat(),
                        "label": "none", "channel_id": None})
    return r


def write_posts(result: PostsResult, out_dir: Path, *, csv: bool = False) -> None:
    out_dir = Path(out_dir)
    (out_dir / "telegram").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    with open(out_dir / "posts.jsonl", "w", encoding="utf-8") as f:
        for p in result.posts:
            f.write(json.dumps({k: p[k] for k in ("id", "text", "channel", "author", "date")}, ensure_ascii=False) + "\n")
    (out_dir / "telegram" / "result.json").write_text(json.dumps({"chats": {"list": []}}), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist([{"post_id": p["id"], "label": p["label"], "channel_id": p["channel_id"]}
                                         for p in result.posts]),
                   out_dir / "truth" / "posts.parquet")
    pq.write_table(pa.Table.from_pylist(result.indicators) if result.indicators else
                   pa.table({"post_id": pa.array([], pa.string())}), out_dir / "truth" / "indicators.parquet")
