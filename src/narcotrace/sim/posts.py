"""The posts of the synthetic world: drug shops' ads and courier recruitment among many ordinary posts.

`generate_posts` writes every post from the templates and vocabularies in sim/text/*.yaml, with its ground
truth (label, kind, language, obfuscation, drug categories, shop) and every contact or payment indicator it
contains (a drop's card or phone, a shop's handle, bot, site or wallet) linked to the account or shop it
points to. `write_posts` writes posts.jsonl, the Telegram Desktop export and the truth tables.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from narcotrace.sim.model import Ad, Shop
from narcotrace.sim.text import load
from narcotrace.sim.text.chats import Chats, translit
from narcotrace.sim.text.grammar import Grammar, Rand, Seg
from narcotrace.sim.text.numbers import LOCAL_UTC_OFFSET_H, aware
from narcotrace.sim.text.obfuscate import Obfuscator
from narcotrace.sim.text.ordinary_posts import OrdinaryPosts
from narcotrace.sim.text.shop_posts import ShopWriter


@dataclass
class PostsResult:
    """Posts with their truth, the sale ads as the money generator needs them, and every indicator."""

    posts: list[dict]
    ads: list[Ad]
    indicators: list[dict]
    chats: list[dict] = field(default_factory=list)  # Telegram chats and web sites the posts appear in


def drug_categories() -> list[str]:
    """The drug categories shops may sell (Shop.drugs), as named in the online lexicon."""
    return list(load("drugs")["categories"])


class _Generator(OrdinaryPosts):
    """Holds the random source, chats and drafts of one run; shops and ordinary writers add drafts to it."""

    def __init__(self, rng: np.random.Generator, shops: list[Shop], start: datetime, days: int,
                 cities: list[str], public_accounts: list[tuple[str, str | None, str | None]] | None) -> None:
        self.rnd = Rand(rng)
        self.shops = shops
        self.start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        self.naive = start.tzinfo is None
        self.days = days
        self.cities = list(cities) or sorted({c for s in shops for c in s.cities}) or ["Алматы"]
        self.public_accounts = public_accounts or []
        self.common = load("common")
        self.drugs = load("drugs")["categories"]
        self.sale = load("sale")
        self.rec = load("recruitment")
        self.ordinary = load("ordinary")
        self.emoji = {**{k: v for k, v in self.common["emoji"].items()},
                      **{f"{k}_emoji": v for k, v in self.common["emoji"].items()}}
        self.sale_g = Grammar(self.sale.get("slots", {}), self.sale["sensitive"], self.emoji)
        self.rec_g = Grammar({**self.sale.get("slots", {}), **self.rec["slots"]}, self.rec["sensitive"], self.emoji)
        self.ord_g = Grammar(self.ordinary["slots"], (), self.emoji)
        self.obf = Obfuscator()
        self.chats = Chats(self.rnd, self.cities)
        self.drafts: list[dict] = []
        self.users: dict[str, int] = {}
        self.next_user = 300_000_000 + self.rnd.below(500_000_000)
        # Bigger cities have busier chats: weight ~ 1/sqrt(rank) in the order the world lists them.
        self.city_w = [1 / math.sqrt(i + 1) for i in range(len(self.cities))]

    # -- time -------------------------------------------------------------------------------------------
    def when(self, hours: list[float], lo: datetime | None = None, hi: datetime | None = None) -> datetime:
        lo = lo or self.start
        hi = hi or self.start + timedelta(days=self.days)
        span = (hi - lo).total_seconds()
        if span <= 0:
            return lo
        for _ in range(20):
            day = lo.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=self.rnd.below(
                max(1, math.ceil(span / 86400) + 1)))
            hour = self.rnd.weighted(range(24), hours)
            t = day + timedelta(hours=hour - LOCAL_UTC_OFFSET_H, seconds=self.rnd.below(3600))
            if lo <= t < hi:
                return t
        return lo + timedelta(seconds=self.rnd.below(max(1, int(span))))

    def user_id(self, name: str) -> int:
        uid = self.users.get(name)
        if uid is None:
            self.next_user += 1 + self.rnd.below(40_000_000)
            uid = self.users[name] = self.next_user
        return uid

    def person_name(self) -> str:
        n = self.common["names"]
        first = self.rnd.choice(n["first_m"] if self.rnd.chance(0.5) else n["first_f"])
        style = self.rnd.below(6)
        if style == 0:
            last = self.rnd.choice(n["last"])
            return f"{first} {last}"
        if style == 1:
            return f"{first} {self.rnd.choice(n['nick'])}"
        if style == 2:
            return translit(first).capitalize()
        return first

    def city(self) -> str:
        return self.rnd.weighted(self.cities, self.city_w)

    # -- shared slots -----------------------------------------------------------------------------------
    def base_ctx(self, city: str, lang: str) -> dict[str, Any]:
        rnd = self.rnd
        info = self.chats.city_info(city)
        districts = info.get("districts") or self.common["generic_districts"]

        ru = info.get("ru", city)

        def city_name(lg: str) -> str:
            lg = rnd.choice(("ru", "kk", "en")) if lg == "mixed" else lg
            if lg == "en":
                return rnd.choice(info.get("en", [translit(city).capitalize()]))
            if lg == "kk":
                return rnd.choice(info.get("kk", [ru]))
            if rnd.chance(0.08):  # Russian-speaking writers sometimes use the Latin spelling or a nickname
                return rnd.choice(info.get("translit", [ru])).capitalize()
            return ru

        def district_list(lg: str) -> str:
            picked = rnd.sample(districts, 2 + rnd.below(4))
            return rnd.choice((", ", " / ", " | ", ", ")).join(picked)

        return {
            "city": city_name,
            "city_loc": lambda lg: info.get("loc", ru) if lg in ("ru", "mixed") else city_name(lg),
            "city_gen": lambda lg: info.get("gen", ru) if lg in ("ru", "mixed") else city_name(lg),
            "city_tag": lambda lg: self.chats.city_tag(city),
            "district": lambda lg: rnd.choice(districts),
            "districts": district_list,
            "name": lambda lg: self.person_name(),
            "n": lambda lg: str(2 + rnd.below(48)),
            "n2": lambda lg: str(3 + rnd.below(13)),
            "year": lambda lg: str(self.start.year),
            "temp": lambda lg: str(rnd.below(56) - 25),
            "score": lambda lg: f"{rnd.below(5)}:{rnd.below(4)}",
            "team": lambda lg: rnd.choice(self.ordinary["slots"]["teams"]),
            "team2": lambda lg: rnd.choice(self.ordinary["slots"]["teams"]),
            "bullet": rnd.choice(self.common["emoji"]["bullet"]),  # one bullet style per post
        }

    def fmt_money(self, p: int, lang: str) -> str:
        style = self.rnd.below(4)
        if style == 0:
            num = f"{p:,}".replace(",", " ")
        elif style == 1:
            num = f"{p:,}".replace(",", ".")
        else:
            num = str(p)
        k = p / 1000
        kstr = (f"{k:.1f}".rstrip("0").rstrip(".")) if p % 1000 else str(p // 1000)
        tpl = self.rnd.choice(self.sale["currency"])
        if lang == "en" and self.rnd.chance(0.5):
            tpl = self.rnd.choice(("{p} KZT", "{p} tenge", "{p}₸", "{k}k"))
        return tpl.format(p=num, k=kstr)

    def price_slot(self, lo: int, hi: int, step: int = 500):
        def make(lg: str) -> str:
            p = int(round(self.rnd.between(lo, hi) / step)) * step
            return self.fmt_money(max(step, p), lg)
        return make

    # -- drug shops ---------------------------------------------------------------------------------------
    def run_shops(self) -> None:
        for shop in self.shops:
            ShopWriter(self, shop).run()

    # -- ordinary posts ------------------------------------------------------------------------------------
    def group_author(self, chat: dict) -> str:
        return chat["name"] if chat["type"] in ("public_channel", "private_channel") else self.person_name()

    def style_noise(self, segs: list[Seg]) -> list[str]:
        """Ordinary writers also stretch words, space letters out and use fancy fonts: not a sign of a shop."""
        rnd = self.rnd
        used: list[str] = []
        if rnd.chance(0.12):
            techniques = [rnd.weighted(("stretched", "separators", "fullwidth", "zero_width", "homoglyph", "digit_sub"),
                                       (5, 2, 3, 1, 1.5, 0.5))]
            used = self.obf.apply(segs, techniques, rnd, rate=0.15,
                                  eligible=lambda s: s.entity is None and len(s.text) > 3, max_words=2)
        return used

    def typos(self, segs: list[Seg]) -> None:
        rnd = self.rnd
        if not rnd.chance(0.25):
            return
        plains = [s for s in segs if s.entity is None and not s.sensitive and len(s.text) > 12]
        if not plains:
            return
        s = rnd.choice(plains)
        words = list(re.finditer(r"[^\W\d_]{5,}", s.text))
        if not words:
            return
        m = rnd.choice(words)
        w = m.group()
        i = 1 + rnd.below(len(w) - 2)
        op = rnd.below(3)
        if op == 0:
            w2 = w[:i] + w[i + 1:]
        elif op == 1:
            w2 = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        else:
            w2 = w[:i] + w[i] + w[i:]
        s.text = s.text[:m.start()] + w2 + s.text[m.end():]

    # -- drafts -> posts -----------------------------------------------------------------------------------
    def add_draft(self, segs: list[Seg], chat: dict, date: datetime, *, label: str, kind: str, lang: str,
                  obfuscations: list[str], shop_id: str | None, categories: list[str], city: str | None,
                  author: str, plain_text: str | None, ad: dict | None = None, tg: dict | None = None,
                  url: str | None = None) -> None:
        segs = _strip(_merge(segs))
        tg = dict(tg or {})
        if chat["platform"] == "telegram" and label == "none":
            tg["photo"] = self.rnd.chance(0.35 if chat["role"] == "city_market" else 0.1)
            tg["edited"] = self.rnd.chance(0.04)
        if chat["type"] in ("public_channel", "private_channel"):
            tg["from_id"] = f"channel{chat['id']}"
        elif chat["platform"] == "telegram":
            tg["from_id"] = f"user{self.user_id(tg.get('user_key') or author)}"
        self.drafts.append({"segs": segs, "chat": chat, "date": date, "label": label, "kind": kind, "lang": lang,
                            "obfuscations": obfuscations, "shop_id": shop_id, "categories": categories,
                            "city": city, "author": author, "ad": ad, "tg": tg,
                            "plain_text": plain_text.strip() if plain_text is not None else None,
                            "url": url, "seq": len(self.drafts)})
        if tg.get("edited"):
            tg["edited"] = date + timedelta(seconds=30 + self.rnd.below(7200))

    def finish(self) -> PostsResult:
        self.drafts.sort(key=lambda d: (d["date"], d["seq"]))
        posts: list[dict] = []
        ads: list[Ad] = []
        indicators: list[dict] = []
        next_msg: dict[int, int] = defaultdict(lambda: 1)
        recent: dict[int, list[int]] = defaultdict(list)
        last_date: dict[int, datetime] = {}
        chats = self.chats.all()
        for chat in chats:  # each chat opens with its creation, a little before the window
            if chat["platform"] != "telegram":
                continue
            created = self.start - timedelta(days=30 + self.rnd.below(700), seconds=self.rnd.below(86400))
            chat["created"] = created
            if chat["type"] != "personal_chat":
                chat["service"].append({"id": 1, "date": created, "action": "create_channel"
                                        if "channel" in chat["type"] or "supergroup" in chat["type"] else "create_group"})
                next_msg[chat["id"]] = 2 + self.rnd.below(5000 if chat["role"] != "shop_channel" else 300)
        for n, d in enumerate(self.drafts, 1):
            pid = f"p{n:07d}"
            chat = d["chat"]
            text = "".join(s.text for s in d["segs"])
            msg_id = None
            url = d["url"]
            if chat["platform"] == "telegram":
                cid = chat["id"]
                msg_id = next_msg[cid]
                group = chat["type"] not in ("public_channel", "private_channel", "personal_chat")
                # Deleted messages and messages of others leave gaps; a join now and then is a service message,
                # between the previous message and this one.
                if group and self.rnd.chance(0.05):
                    gap = int((d["date"] - last_date.get(cid, chat["created"])).total_seconds())
                    if gap > 2:
                        joined = d["date"] - timedelta(seconds=1 + self.rnd.below(min(gap - 1, 3000)))
                        chat["service"].append({"id": msg_id, "date": joined, "action": "join_group_by_link",
                                                "actor": self.person_name()})
                        msg_id += 1
                next_msg[cid] = msg_id + 1 + (self.rnd.below(3) if self.rnd.chance(0.3) else 0)
                if group and recent[cid] and self.rnd.chance(0.12):  # people answer each other in groups
                    d["tg"]["reply_to"] = self.rnd.choice(recent[cid][-20:])
                recent[cid].append(msg_id)
                last_date[cid] = d["date"]
                if chat["username"]:
                    url = f"https://t.me/{chat['username']}/{msg_id}"
            date = d["date"]
            out_date = date.replace(tzinfo=None) if self.naive else date
            obf = d["obfuscations"]
            post = {
                "id": pid, "text": text, "channel": chat["name"], "author": d["author"], "date": out_date, "url": url,
                "label": d["label"], "kind": d["kind"], "lang": d["lang"], "obfuscated": bool(obf),
                "obfuscations": list(obf), "shop_id": d["shop_id"], "categories": list(d["categories"]),
                "city": d["city"], "plain_text": d["plain_text"] if d["plain_text"] is not None else text,
                "platform": chat["platform"], "chat_type": chat["type"], "tg_chat_id": chat["id"],
                "tg_message_id": msg_id, "_segs": d["segs"], "_tg": d["tg"],
            }
            posts.append(post)
            seen: set[tuple[str, str]] = set()
            pos = 0
            for s in d["segs"]:
                for ind in s.indicators:
                    key = (ind["kind"], ind["value"])
                    if key in seen:
                        continue
                    seen.add(key)
                    indicators.append({"post_id": pid, **ind, "span_start": pos, "span_end": pos + len(s.text)})
                pos += len(s.text)
            if d["ad"] is not None:
                a = d["ad"]
                ads.append(Ad(post_id=pid, shop_id=d["shop_id"], date=out_date, city=d["city"],
                              account_ids=a["account_ids"], prices=a["prices"]))
        return PostsResult(posts=posts, ads=ads, indicators=indicators, chats=chats)



def _strip(segs: list[Seg]) -> list[Seg]:
    """No post starts or ends with blanks (an empty optional slot can leave them); contacts are never blank."""
    while segs and segs[0].entity is None and not segs[0].text.strip():
        segs = segs[1:]
    while segs and segs[-1].entity is None and not segs[-1].text.strip():
        segs = segs[:-1]
    if segs and segs[0].entity is None:
        segs[0].text = segs[0].text.lstrip()
    if segs and segs[-1].entity is None:
        segs[-1].text = segs[-1].text.rstrip()
    return segs


def _merge(segs: list[Seg]) -> list[Seg]:
    """Adjacent plain pieces become one (fewer runs in the Telegram export); entities stay apart."""
    out: list[Seg] = []
    for s in segs:
        if not s.text:
            continue
        if out and s.entity is None and out[-1].entity is None and not s.indicators and not out[-1].indicators:
            out[-1] = Seg(out[-1].text + s.text)
        else:
            out.append(Seg(s.text, s.entity, s.href, s.sensitive, s.category, s.indicators))
    return out


# ---------------------------------------------------------------------------------------------------------
# Public interface
# ---------------------------------------------------------------------------------------------------------

def generate_posts(rng: np.random.Generator, shops: list[Shop], *, start: datetime, days: int, n_ordinary: int,
                   cities: list[str], public_accounts: list[tuple[str, str | None, str | None]] | None = None
                   ) -> PostsResult:
    """Write the shops' ads and recruitment posts and `n_ordinary` ordinary posts over `days` from `start`.

    `public_accounts` (optional): (account_id, card, phone) of ordinary people and businesses who put their
    card or phone in marketplace and charity posts, so those indicators point to real, innocent accounts.
    """
    g = _Generator(rng, shops, start, days, cities, public_accounts)
    g.run_shops()
    g.run_ordinary(n_ordinary)
    return g.finish()


POST_COLUMNS = ("id", "text", "channel", "author", "date", "url")
TRUTH_POST_COLUMNS = ("post_id", "label", "kind", "lang", "obfuscated", "obfuscations", "shop_id", "channel_id",
                      "categories", "city", "channel", "platform", "chat_type", "tg_chat_id", "tg_message_id",
                      "author", "date", "url", "plain_text")
TRUTH_INDICATOR_COLUMNS = ("post_id", "kind", "value", "canonical_id", "chain", "account_id", "channel_id",
                           "span_start", "span_end")


def _iso(t: datetime) -> str:
    t = aware(t).astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_posts(result: PostsResult, out_dir: Path, *, csv: bool = False) -> None:
    """DIR/posts.jsonl, DIR/telegram/result.json, DIR/truth/posts.parquet and indicators.parquet (+ CSV)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from narcotrace.sim.telegram import write_export

    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    with open(out_dir / "posts.jsonl", "w", encoding="utf-8") as f:
        for p in result.posts:
            row = {"id": p["id"], "text": p["text"], "channel": p["channel"], "author": p["author"], "date": _iso(p["date"])}
            if p.get("url"):
                row["url"] = p["url"]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_export(result, out_dir / "telegram" / "result.json")

    ts = pa.timestamp("us")  # UTC without a zone, like every table of the world
    posts_tbl = pa.table({
        "post_id": pa.array([p["id"] for p in result.posts], pa.string()),
        "label": pa.array([p["label"] for p in result.posts], pa.string()),
        "kind": pa.array([p["kind"] for p in result.posts], pa.string()),
        "lang": pa.array([p["lang"] for p in result.posts], pa.string()),
        "obfuscated": pa.array([p["obfuscated"] for p in result.posts], pa.bool_()),
        "obfuscations": pa.array([p["obfuscations"] for p in result.posts], pa.list_(pa.string())),
        "shop_id": pa.array([p["shop_id"] for p in result.posts], pa.string()),
        "channel_id": pa.array([p["shop_id"] for p in result.posts], pa.string()),
        "categories": pa.array([p["categories"] for p in result.posts], pa.list_(pa.string())),
        "city": pa.array([p["city"] for p in result.posts], pa.string()),
        "channel": pa.array([p["channel"] for p in result.posts], pa.string()),
        "platform": pa.array([p["platform"] for p in result.posts], pa.string()),
        "chat_type": pa.array([p["chat_type"] for p in result.posts], pa.string()),
        "tg_chat_id": pa.array([p["tg_chat_id"] for p in result.posts], pa.int64()),
        "tg_message_id": pa.array([p["tg_message_id"] for p in result.posts], pa.int64()),
        "author": pa.array([p["author"] for p in result.posts], pa.string()),
        "date": pa.array([aware(p["date"]).astimezone(timezone.utc).replace(tzinfo=None) for p in result.posts], ts),
        "url": pa.array([p["url"] for p in result.posts], pa.string()),
        "plain_text": pa.array([p["plain_text"] for p in result.posts], pa.string()),
    })
    ind = result.indicators
    ind_tbl = pa.table({
        c: pa.array([i.get(c) for i in ind], pa.int64() if c.startswith("span") else pa.string())
        for c in TRUTH_INDICATOR_COLUMNS
    })
    pq.write_table(posts_tbl, out_dir / "truth" / "posts.parquet")
    pq.write_table(ind_tbl, out_dir / "truth" / "indicators.parquet")
    if csv:
        flat = posts_tbl.set_column(posts_tbl.schema.get_field_index("obfuscations"), "obfuscations",
                                    pa.array(["|".join(p["obfuscations"]) for p in result.posts], pa.string()))
        flat = flat.set_column(flat.schema.get_field_index("categories"), "categories",
                               pa.array(["|".join(p["categories"]) for p in result.posts], pa.string()))
        pacsv.write_csv(flat, out_dir / "truth" / "posts.csv")
        pacsv.write_csv(ind_tbl, out_dir / "truth" / "indicators.csv")


def summary(result: PostsResult) -> dict[str, Counter]:
    """Counts of posts by label, kind and language (for reports and the simulate summary)."""
    return {"label": Counter(p["label"] for p in result.posts), "kind": Counter(p["kind"] for p in result.posts),
            "lang": Counter(p["lang"] for p in result.posts)}
