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

from narcotrace.sim.model import Ad, DropSpell, Shop
from narcotrace.sim.text import contacts as cx
from narcotrace.sim.text import load
from narcotrace.sim.text.grammar import Grammar, Rand, Seg, join, plain
from narcotrace.sim.text.obfuscate import TECHNIQUES, Obfuscator, word_script

LOCAL_UTC_OFFSET_H = 5  # Kazakhstan has one time zone, UTC+5, since 2024
# Share of posts by hour of local time: shops post from late morning into the night, people by day.
HOURS_SALE = [2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 9, 7, 4]
HOURS_ORDINARY = [1, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 5, 8, 9, 9, 9, 10, 9, 9, 9, 9, 9, 9, 9, 8, 6, 4, 2]
# Aliases the world generator may use for the lexicon's drug categories.
CATEGORY_ALIASES = {"cathinones": "mephedrone", "alpha-pvp": "alpha_pvp", "apvp": "alpha_pvp", "lsd": "psychedelics",
                    "mushrooms": "psychedelics", "pills": "prescription_pills", "spice": "synthetic_cannabinoids",
                    "heroin": "opioids", "hashish": "cannabis", "mdma_tabs": "mdma"}
SHOP_OWN_CHANNEL = "own"


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


# ---------------------------------------------------------------------------------------------------------
# Chats: where posts appear
# ---------------------------------------------------------------------------------------------------------

class Chats:
    """The Telegram chats (and shop web sites) of the world, with stable ids and Telegram types."""

    def __init__(self, rnd: Rand, cities: list[str]) -> None:
        self.rnd = rnd
        self.common = load("common")
        self.by_key: dict[str, dict] = {}
        self.next_peer = 1_100_000_000 + rnd.below(400_000_000)
        self.cities = cities
        self._city_index: dict[str, dict] | None = None

    def _peer_id(self) -> int:
        self.next_peer += 1 + self.rnd.below(9_000_000)
        return self.next_peer

    def city_info(self, city: str) -> dict:
        """Vocabulary of a city given by any of its names (Алматы, Almaty, almaty, Алма-Ата, Өскемен, ...)."""
        if self._city_index is None:
            self._city_index = {}
            for key, info in self.common["cities"].items():
                for name in [key, *info.get("en", []), *info.get("kk", []), *info.get("translit", [])]:
                    self._city_index[name.lower()] = {**info, "ru": key}
        return self._city_index.get(city.lower(), {})

    def ru_name(self, city: str) -> str:
        return self.city_info(city).get("ru", city)

    def city_tag(self, city: str) -> str:
        info = self.city_info(city)
        return info.get("tag") or re.sub(r"\W+", "", cx_translit(city).lower()) or "kz"

    def get(self, role: str, city: str | None = None) -> dict:
        key = f"{role}:{city or ''}"
        chat = self.by_key.get(key)
        if chat is None:
            chat = self._make(role, city)
            self.by_key[key] = chat
        return chat

    def _make(self, role: str, city: str | None) -> dict:
        rnd = self.rnd
        title_t = rnd.choice(self.common["chat_titles"][role])
        info = self.city_info(city) if city else {}
        name = info.get("ru", city) if city else ""
        if city and rnd.chance(0.25):  # some chats go by the city's Latin or Kazakh name
            name = rnd.choice(info.get("en", [city]) + info.get("kk", [city]))
        title = title_t.format(city=name, city_gen=info.get("gen", name) if name == info.get("ru") else name,
                               city_tag=self.city_tag(city) if city else "")
        if role in ("city_news", "national_news", "music", "health"):
            ctype = "public_channel"
        elif role == "hobby":
            ctype = rnd.choice(("private_group", "private_supergroup"))
        elif role == "city_chat":
            ctype = "public_supergroup" if rnd.chance(0.7) else "private_supergroup"
        else:
            ctype = "public_supergroup"
        username = None
        if ctype.startswith("public"):
            stem = re.sub(r"[^a-z0-9]+", "_", cx_translit(title).lower()).strip("_")
            username = (stem[:24] + ("_kz" if rnd.chance(0.5) else "")).strip("_") or f"chat{len(self.by_key)}"
        return self._register(title, ctype, username, role, city, shop_id=None)

    def _register(self, title: str, ctype: str, username: str | None, role: str, city: str | None,
                  shop_id: str | None, platform: str = "telegram", peer_id: int | None = None) -> dict:
        return {"name": title, "type": ctype, "id": peer_id or self._peer_id(), "username": username, "role": role,
                "city": city, "shop_id": shop_id, "platform": platform, "service": []}

    def shop_channel(self, shop: Shop) -> dict:
        key = f"shop:{shop.shop_id}"
        if key not in self.by_key:
            username = shop.handles[0] if shop.handles else None
            self.by_key[key] = {"name": shop.brand, "type": "public_channel" if username else "private_channel",
                                "id": self._peer_id(), "username": username, "role": "shop_channel", "city": None,
                                "shop_id": shop.shop_id, "platform": "telegram", "service": []}
        return self.by_key[key]

    def operator_chat(self, shop: Shop, persona: str, user_id: int) -> dict:
        key = f"operator:{shop.shop_id}"
        if key not in self.by_key:
            self.by_key[key] = {"name": persona, "type": "personal_chat", "id": user_id, "username": None,
                                "role": "personal_chat", "city": None, "shop_id": shop.shop_id,
                                "platform": "telegram", "service": []}
        return self.by_key[key]

    def website(self, shop: Shop, host: str) -> dict:
        key = f"web:{host}"
        if key not in self.by_key:
            self.by_key[key] = {"name": host, "type": "website", "id": None, "username": None, "role": "website",
                                "city": None, "shop_id": shop.shop_id, "platform": "web", "service": []}
        return self.by_key[key]

    def all(self) -> list[dict]:
        seen: set[int] = set()
        out = []
        for chat in self.by_key.values():
            if id(chat) not in seen:
                seen.add(id(chat))
                out.append(chat)
        return out


_TRANSLIT: dict[str, str] | None = None


def cx_translit(text: str) -> str:
    global _TRANSLIT
    if _TRANSLIT is None:
        _TRANSLIT = load("obfuscation")["translit"]
    return "".join(_TRANSLIT.get(ch.lower(), ch) if word_script(ch) == "C" else ch for ch in text)


# ---------------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------------

class _Generator:
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
            return cx_translit(first).capitalize()
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
                return rnd.choice(info.get("en", [cx_translit(city).capitalize()]))
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
            _ShopWriter(self, shop).run()

    # -- ordinary posts ------------------------------------------------------------------------------------
    def run_ordinary(self, n: int) -> None:
        kinds = self.ordinary["kinds"]
        names = list(kinds)
        weights = [kinds[k]["weight"] for k in names]
        share = self.ordinary.get("menu_share", 0.0)
        for _ in range(n):
            if self.rnd.chance(share):
                self.menu_post()
            else:
                self.ordinary_post(self.rnd.weighted(names, weights))

    def menu_post(self) -> None:
        """A legal business's price list: built like a shop's menu, with sizes, prices, delivery, contacts."""
        rnd = self.rnd
        menu = rnd.choice(self.ordinary["menus"])
        lang = rnd.weighted(("ru", "kk", "en", "mixed"), (7, 2.5, 0.5, 1))
        mix = ("ru", "kk")
        city = self.city()
        role = rnd.choice(self.ordinary["venues"][menu["venue"]]).strip("{}")
        chat = self.chats.get(role, city if role.startswith("city") else None)
        ctx = self.base_ctx(city, lang)
        ctx.update(self.ordinary_ctx(menu["kind"], city))
        g = self.ord_g
        bullet = rnd.choice(self.common["emoji"]["bullet"])
        blocks = [g.expand(rnd.choice(_langs(menu["title"], lang, rnd, list(mix))), lang, rnd, ctx, mix)]
        lines = []
        for name, sizes, unit, lo, hi in rnd.sample(menu["items"], 2 + rnd.below(len(menu["items"]) - 1)):
            size = rnd.choice(sizes)
            base = rnd.between(lo, hi)
            total = base * size if unit in ("кг", "л", "шт", "уп", "USDT", "BTC") else base
            price = self.fmt_money(_round_price(total), lang if lang != "mixed" else "ru")
            c = {**ctx, "item": name, "size": f"{_wstr(size)} {unit}" if rnd.chance(0.7) else f"{_wstr(size)}{unit}",
                 "price": price, "bullet": bullet}
            lines.append(g.expand(rnd.choice(_langs(self.ordinary["menu_lines"], lang, rnd, list(mix))), lang, rnd, c, mix))
        blocks.append(join(lines, "\n"))
        footers = _langs(self.ordinary["menu_footer"], lang, rnd, list(mix))
        for t in rnd.sample(footers, 1 + rnd.below(4)):
            blocks.append(g.expand(t, lang, rnd, ctx, mix))
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        self.typos(segs)
        plain_text = plain(segs)
        obfs = self.style_noise(segs)
        self.add_draft(segs, chat, self.when(HOURS_ORDINARY), label="none", kind=menu["kind"], lang=lang,
                       obfuscations=obfs, shop_id=None, categories=[], city=city, author=self.group_author(chat),
                       plain_text=plain_text)

    def ordinary_post(self, kind: str) -> None:
        rnd = self.rnd
        spec = self.ordinary["kinds"][kind]
        langs = list(spec["langs"])
        lang = rnd.weighted(langs, [spec["langs"][lg] for lg in langs])
        mix = ("ru", "kk") if lang != "en" else ("ru", "en")
        if lang in ("ru", "kk") and rnd.chance(0.06):
            lang, mix = "mixed", (lang, "en" if rnd.chance(0.4) else ("kk" if lang == "ru" else "ru"))
        city = self.city()
        venue = spec["venue"]
        role = rnd.choice(self.ordinary["venues"][venue]).strip("{}")
        chat = self.chats.get(role, city if role.startswith("city") else None)
        ctx = self.base_ctx(city, lang)
        ctx.update(self.ordinary_ctx(kind, city))
        tpl_lang = rnd.choice(mix) if lang == "mixed" else lang
        templates = spec["templates"].get(tpl_lang) or spec["templates"]["ru"]
        segs = self.ord_g.expand(rnd.choice(templates), lang, rnd, ctx, mix)
        tails = self.ordinary["tails"].get(venue)
        if tails and rnd.chance(0.55):
            opts = tails.get(tpl_lang) or tails.get("any") or tails.get("ru")
            for t in rnd.sample(opts, 1 + rnd.below(2)):
                last = plain(segs).rstrip()[-1:]
                sep = rnd.choice(("\n", "\n", " ", "\n\n") if not last.isalnum() else ("\n", ". ", " ", "\n\n"))
                segs += [Seg(sep)] + self.ord_g.expand(t, lang, rnd, ctx, mix)
        if rnd.chance(0.12):  # chat style: all lower case
            for s in segs:
                if s.entity is None:
                    s.text = s.text.lower()
        self.typos(segs)
        plain_text = plain(segs)
        obfs = self.style_noise(segs)
        date = self.when(HOURS_ORDINARY)
        self.add_draft(segs, chat, date, label="none", kind=kind, lang=lang, obfuscations=obfs, shop_id=None,
                       categories=[], city=city, author=self.group_author(chat), plain_text=plain_text)

    def ordinary_ctx(self, kind: str, city: str) -> dict[str, Any]:
        rnd = self.rnd
        recruit_like = kind == "legal_courier_job"

        def phone(lg: str) -> list[Seg]:
            acc = self.public_account(phone=True)
            if acc:
                return [cx.phone_seg(acc[2], rnd, account_id=acc[0])]
            return [cx.phone_seg(cx.random_mobile(rnd), rnd)]

        def card(lg: str) -> list[Seg]:
            acc = self.public_account(card=True)
            if acc:
                return [cx.card_seg(acc[1], rnd, account_id=acc[0])]
            return [cx.card_seg(cx.random_card(rnd), rnd)]

        return {
            "phone": phone,
            "landline": lambda lg: [cx.phone_seg(cx.random_landline(rnd, self.chats.ru_name(city)), rnd)],
            "card": card,
            "handle": lambda lg: [cx.mention_seg(self.ordinary_handle())],
            "bot": lambda lg: [cx.mention_seg(self.ordinary_handle(bot=True))],
            "tme": lambda lg: [cx.tme_seg(self.ordinary_handle(), rnd)],
            "site": lambda lg: [cx.site_seg(self.ordinary_domain(), rnd, path=rnd.choice(("news", "page/2", "about", "catalog")))],
            "email": lambda lg: [cx.email_seg(self.ordinary_email())],
            "wallet": lambda lg: [cx.wallet_seg(*cx.random_wallet(rnd), rnd)],
            "price": self.price_slot(*self.ordinary["kinds"][kind].get("price", (1000, 100_000)), 500),
            "price_small": self.price_slot(1000, 25_000, 500),
            "price_big": self.price_slot(15_000, 900_000, 1000),
            "grams": lambda lg: rnd.choice((str(rnd.below(40) + 1), f"{rnd.below(900) + 10}", f"{rnd.below(9)+1},{rnd.below(9)+1}")),
            "kg": lambda lg: rnd.choice((str(rnd.below(60) + 1), f"{rnd.below(20)+1},{rnd.below(9)+1}", str(rnd.below(900) + 100))),
            "pay_day": self.price_slot(8000, 30000, 1000),
            "pay_week": self.price_slot(60_000 if not recruit_like else 90_000, 220_000, 5000),
            "pay_month": self.price_slot(180_000, 700_000, 10_000),
        }

    def public_account(self, card: bool = False, phone: bool = False) -> tuple | None:
        if not self.public_accounts or not self.rnd.chance(0.6):
            return None
        for _ in range(4):
            acc = self.rnd.choice(self.public_accounts)
            if (card and acc[1]) or (phone and acc[2]):
                return acc
        return None

    def ordinary_handle(self, bot: bool = False) -> str:
        rnd = self.rnd
        words = self.common["handle_words"]
        style = rnd.below(4)
        if style == 0:
            h = f"{rnd.choice(words)}_{rnd.choice(words)}"
        elif style == 1:
            h = f"{cx_translit(self.person_name().split()[0]).lower()}_{rnd.choice(words)}"
        elif style == 2:
            h = f"{rnd.choice(words)}{rnd.choice(words)}{rnd.below(100) if rnd.chance(0.5) else ''}"
        else:
            h = f"{cx_translit(self.person_name().split()[0]).lower()}{rnd.below(1000)}"
        h = re.sub(r"[^a-z0-9_]", "", h)
        if len(h) < 5:
            h += "_kz"
        if bot:
            h = h[:26] + ("_bot" if rnd.chance(0.6) else "bot")
        return h[:32]

    def ordinary_domain(self) -> str:
        words = self.common["handle_words"]
        sep = self.rnd.choice(("", "-", ""))
        return f"{self.rnd.choice(words)}{sep}{self.rnd.choice(words)}.{self.rnd.choice(self.common['domain_tlds'])}"

    def ordinary_email(self) -> str:
        user = cx_translit(self.person_name().split()[0]).lower()
        user = re.sub(r"[^a-z0-9]", "", user) or "info"
        host = self.rnd.choice(("mail.ru", "gmail.com", "inbox.kz", "mail.kz", "yandex.kz", "bk.ru"))
        if self.rnd.chance(0.3):
            return f"{self.rnd.choice(('hr', 'info', 'job', 'office'))}@{self.ordinary_domain()}"
        return f"{user}{self.rnd.below(2000) if self.rnd.chance(0.6) else ''}@{host}"

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
        segs = _merge(segs)
        tg = dict(tg or {})
        if chat["type"] in ("public_channel", "private_channel"):
            tg["from_id"] = f"channel{chat['id']}"
        elif chat["platform"] == "telegram":
            tg["from_id"] = f"user{self.user_id(tg.get('user_key') or author)}"
        self.drafts.append({"segs": segs, "chat": chat, "date": date, "label": label, "kind": kind, "lang": lang,
                            "obfuscations": obfuscations, "shop_id": shop_id, "categories": categories,
                            "city": city, "author": author, "plain_text": plain_text, "ad": ad, "tg": tg,
                            "url": url, "seq": len(self.drafts)})
        if tg.get("edited"):
            tg["edited"] = date + timedelta(seconds=30 + self.rnd.below(7200))

    def finish(self) -> PostsResult:
        self.drafts.sort(key=lambda d: (d["date"], d["seq"]))
        posts: list[dict] = []
        ads: list[Ad] = []
        indicators: list[dict] = []
        next_msg: dict[int, int] = defaultdict(lambda: 1)
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
                msg_id = next_msg[chat["id"]]
                # Deleted messages and messages of others leave gaps; a join now and then is a service message.
                if chat["type"] not in ("public_channel", "private_channel", "personal_chat") and self.rnd.chance(0.05):
                    chat["service"].append({"id": msg_id, "date": d["date"] - timedelta(seconds=1 + self.rnd.below(3000)),
                                            "action": "join_group_by_link", "actor": self.person_name()})
                    msg_id += 1
                next_msg[chat["id"]] = msg_id + 1 + (self.rnd.below(3) if self.rnd.chance(0.3) else 0)
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


# ---------------------------------------------------------------------------------------------------------
# One shop's ads and recruitment posts
# ---------------------------------------------------------------------------------------------------------

class _ShopWriter:
    def __init__(self, g: _Generator, shop: Shop) -> None:
        self.g = g
        self.shop = shop
        rnd = g.rnd
        self.rnd = rnd
        self.products = self._products()
        self.level = rnd.between(0.85, 1.2)
        self.base_price = {p["key"]: self._round(rnd.between(*p["price"]) * self.level) for _, p in self.products}
        self.obf_rate = rnd.choice((0.15, 0.3, 0.4, 0.5, 0.6, 0.75))  # ≈45 % of ads on average
        self.techniques = rnd.sample(TECHNIQUES, 1 + rnd.below(3))
        self.cities = [c for c in shop.cities if c in g.cities] or list(shop.cities) or [g.city()]
        self.langs = [lg for lg in shop.langs if lg in ("ru", "kk", "en")] or ["ru"]
        self.personas = [self._persona() for _ in range(1 + rnd.below(3))]
        self.covered: set[int] = set()
        self.window_end = g.start + timedelta(days=g.days)

    def _products(self) -> list[tuple[str, dict]]:
        out = []
        for cat in self.shop.drugs:
            cat = CATEGORY_ALIASES.get(cat.lower(), cat.lower())
            spec = self.g.drugs.get(cat)
            if spec:
                out.extend((cat, p) for p in spec["products"])
        if not out:
            spec = self.g.drugs["mephedrone"]
            out = [("mephedrone", p) for p in spec["products"]]
        return out

    @staticmethod
    def _round(p: float) -> int:
        step = 100 if p < 3000 else 500 if p < 30000 else 1000
        return max(step, int(round(p / step)) * step)

    def _persona(self) -> str:
        rnd = self.rnd
        brand = self.shop.brand
        opts = (f"{brand} | Оператор", "Оператор 24/7", f"{brand}", f"{brand} Support", self.g.person_name(),
                f"{rnd.choice(('Менеджер', 'Admin', 'Оператор', 'Саппорт'))} {brand}", f"{brand} 🔌")
        return rnd.choice(opts)

    def price(self, key: str, w: float) -> int:
        base = self.base_price[key]
        return self._round(base * w * w ** -0.12)

    def active_drops(self, when: datetime) -> list[tuple[int, DropSpell]]:
        out = []
        for i, d in enumerate(self.shop.drops):
            s, e = _aware(d.start), _aware(d.end)
            if s <= when < e:
                out.append((i, d))
        return out

    def run(self) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        rate = rnd.between(0.8, 3.0)
        n_ads = int(rng_poisson(rnd, rate * g.days))
        for _ in range(n_ads):
            self.sale_ad(g.when(HOURS_SALE))
        # Every drop the shop uses is named in at least one of its ads while it is active.
        for i, d in enumerate(shop.drops):
            if i in self.covered:
                continue
            lo, hi = max(_aware(d.start), g.start), min(_aware(d.end), self.window_end)
            if lo < hi:
                self.sale_ad(g.when(HOURS_SALE, lo, hi), must_name=i)
        if shop.domain:
            for _ in range(1 + rnd.below(3)):
                self.sale_ad(g.when(HOURS_SALE), site=shop.domain)
        if shop.onion:
            for _ in range(1 + rnd.below(2)):
                self.sale_ad(g.when(HOURS_SALE), site=shop.onion)
        n_rec = int(rng_poisson(rnd, rnd.between(0.08, 0.4) * g.days))
        for _ in range(n_rec):
            self.recruitment(g.when(HOURS_SALE))

    # -- where -------------------------------------------------------------------------------------------
    def venue(self, recruitment: bool) -> tuple[dict, str, dict]:
        """Chat, author and Telegram extras (forwarded from the shop's channel) of one post."""
        g, rnd = self.g, self.rnd
        own = g.chats.shop_channel(self.shop)
        city = rnd.choice(self.cities)
        x = rnd.random()
        if recruitment:
            role = "own" if x < 0.4 else "city_jobs" if x < 0.75 else "city_chat"
        else:
            role = "own" if x < 0.45 else "city_chat" if x < 0.78 else "city_market" if x < 0.95 else "operator"
        if role == "own":
            return own, own["name"], {"city": city}
        if role == "operator":
            persona = self.personas[0]
            chat = g.chats.operator_chat(self.shop, persona, g.user_id(f"{self.shop.shop_id}:{persona}"))
            return chat, persona, {"city": city, "user_key": f"{self.shop.shop_id}:{persona}"}
        chat = g.chats.get(role, city)
        persona = rnd.choice(self.personas)
        tg: dict = {"city": city, "user_key": f"{self.shop.shop_id}:{persona}"}
        if rnd.chance(0.25):
            tg["forwarded_from"] = own["name"]
        return chat, persona, tg

    # -- context ------------------------------------------------------------------------------------------
    def ctx(self, city: str, lang: str, used_products: list[tuple[str, dict]], named: list[DropSpell],
            wallet_named: list, primary: tuple[str, dict]) -> dict[str, Any]:
        g, rnd, shop = self.g, self.rnd, self.shop
        cid = shop.shop_id
        ctx = g.base_ctx(city, lang)
        chosen = rnd.sample(self.products, 1 + rnd.below(min(4, len(self.products))))
        if primary not in chosen:
            chosen.insert(0, primary)
        handles = shop.handles or [re.sub(r"\W+", "", cx_translit(shop.brand).lower()) + "_shop"]
        bots = shop.bots or handles

        def use(p: tuple[str, dict]) -> None:
            if p not in used_products:
                used_products.append(p)

        def name_of(p: tuple[str, dict], lg: str) -> list[Seg]:
            use(p)
            lg = rnd.choice(self.langs) if lg == "mixed" else lg
            names = p[1]["names"].get(lg) or p[1]["names"]["ru"]
            return [Seg(rnd.choice(names), sensitive=True, category=p[0])]

        prim_names = primary[1]["names"].get(lang if lang != "mixed" else self.langs[0]) or primary[1]["names"]["ru"]
        prim_name = rnd.choice(prim_names)

        def drug(lg: str) -> list[Seg]:
            use(primary)
            return [Seg(prim_name, sensitive=True, category=primary[0])]

        def drugs(lg: str) -> list[Seg]:
            sep = rnd.choice((", ", "/", " / ", " и " if lg == "ru" else ", ", " • ", " | "))
            return join([name_of(p, lg) for p in chosen[:2 + rnd.below(3)]], sep)

        def weights_of(p: tuple[str, dict], lg: str) -> str:
            prod = p[1]
            ws = sorted(rnd.sample(prod["weights"], 1 + rnd.below(min(4, len(prod["weights"])))))
            fmt = rnd.choice(_langs(self.g.sale["weight_price"][prod["unit"]], lg, rnd, self.langs))
            sep = rnd.choice(self.g.sale["weight_sep"])
            parts = []
            for w in ws:
                p_ = self.price(prod["key"], w)
                self.prices[f"{prod['key']}:{_wstr(w)}{prod['unit']}"] = p_
                wtxt = _wstr(w).replace(".", ",") if rnd.chance(0.3) else _wstr(w)
                parts.append(fmt.format(w=wtxt, p=g.fmt_money(p_, lg)))
            return sep.join(parts)

        def price_list(lg: str) -> list[Seg]:
            lines = []
            bullet = rnd.choice(g.common["emoji"]["bullet"])
            tpl = rnd.choice(g.sale["price_line"].get(lg if lg != "mixed" else rnd.choice(self.langs), g.sale["price_line"]["ru"]))
            for p in chosen:
                c = dict(ctx)
                c["drug"] = lambda lg2, p=p: name_of(p, lg2)
                c["weights"] = lambda lg2, p=p: weights_of(p, lg2)
                c["bullet"] = bullet
                c["drug_emoji"] = rnd.choice(g.drugs[p[0]]["emoji"])
                lines.append(g.sale_g.expand(tpl, lg, rnd, c, self.mix))
            return join(lines, "\n")

        def primary_weight() -> float:
            return rnd.choice(primary[1]["weights"][:3])

        pw = primary_weight()

        def price(lg: str) -> str:
            p_ = self.price(primary[1]["key"], pw)
            self.prices[f"{primary[1]['key']}:{_wstr(pw)}{primary[1]['unit']}"] = p_
            return g.fmt_money(p_, lg)

        def weight(lg: str) -> str:
            unit = primary[1]["unit"]
            u = {"g": rnd.choice(("г", "гр", "g")), "pc": rnd.choice(("шт", "tab", "т"))}[unit] if lg != "en" else \
                {"g": "g", "pc": rnd.choice(("pcs", "tabs"))}[unit]
            return f"{_wstr(pw)}{u}" if rnd.chance(0.6) else f"{_wstr(pw)} {u}"

        def pay(lg: str) -> list[Seg]:
            lines = []
            for d in named:
                if d["how"] in ("card", "both") and d["drop"].card:
                    lines.append(g.sale_g.expand(rnd.choice(_langs(g.sale["pay"]["card"], lg, rnd, self.langs)), lg, rnd,
                                                 {**ctx, "card": [cx.card_seg(d["drop"].card, rnd, d["drop"].account_id, cid)]},
                                                 self.mix))
                if d["how"] in ("phone", "both") and d["drop"].phone:
                    lines.append(g.sale_g.expand(rnd.choice(_langs(g.sale["pay"]["phone"], lg, rnd, self.langs)), lg, rnd,
                                                 {**ctx, "phone": [cx.phone_seg(d["drop"].phone, rnd, d["drop"].account_id, cid)]},
                                                 self.mix))
            for w in wallet_named:
                lines.append(g.sale_g.expand(rnd.choice(_langs(g.sale["pay"]["crypto"], lg, rnd, self.langs)), lg, rnd,
                                             {**ctx, "wallet": [cx.wallet_seg(w.chain, w.address, rnd, w.account_id, cid)]},
                                             self.mix))
            if not lines:
                lines.append(g.sale_g.expand(rnd.choice(_langs(g.sale["pay"]["none"], lg, rnd, self.langs)), lg, rnd, ctx,
                                             self.mix))
            return join(lines, "\n")

        ctx.update({
            "brand": shop.brand,
            "drug": drug, "drugs": drugs, "price_list": price_list, "price": price, "weight": weight, "pay": pay,
            "drug_emoji": lambda lg: rnd.choice(g.drugs[primary[0]]["emoji"]),
            "handle": lambda lg: [cx.mention_seg(rnd.choice(handles), cid)],
            "handle2": lambda lg: [cx.mention_seg(rnd.choice(handles), cid)] if len(handles) > 1 or rnd.chance(0.5)
            else [cx.tme_seg(rnd.choice(handles), rnd, cid)],
            "tme": lambda lg: [cx.tme_seg(rnd.choice(handles + bots[:1]), rnd, cid)],
            "bot": lambda lg: [cx.mention_seg(rnd.choice(bots), cid)] if rnd.chance(0.8)
            else [cx.tme_seg(rnd.choice(bots), rnd, cid)],
            "site": lambda lg: [cx.site_seg(shop.domain, rnd, cid, path=rnd.choice(("shop", "catalog", city_path(city))))]
            if shop.domain else [cx.tme_seg(rnd.choice(handles), rnd, cid)],
            "onion": lambda lg: [cx.onion_seg(shop.onion, rnd, cid)] if shop.onion else [cx.mention_seg(rnd.choice(bots), cid)],
            "pay_week": g.price_slot(150_000, 600_000, 10_000),
            "pay_day": g.price_slot(25_000, 90_000, 5000),
            "pay_month": g.price_slot(600_000, 2_500_000, 50_000),
            "pay_week2": g.price_slot(400_000, 900_000, 10_000),
            "deposit": g.price_slot(20_000, 100_000, 5000),
        })

        def city_path(c: str) -> str:
            return g.chats.city_tag(c)
        return ctx

    def pick_lang(self) -> tuple[str, tuple[str, ...]]:
        rnd = self.rnd
        if rnd.chance(0.12):
            other = [lg for lg in self.langs if lg != "ru"] or ["en"]
            return "mixed", ("ru", rnd.choice(other))
        return rnd.choice(self.langs), (self.langs[0], "en")

    # -- a sale ad --------------------------------------------------------------------------------------------
    def sale_ad(self, when: datetime, must_name: int | None = None, site: str | None = None) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        lang, self.mix = self.pick_lang()
        if site:
            chat = g.chats.website(shop, site)
            author, tg = shop.brand, {"city": rnd.choice(self.cities)}
        else:
            chat, author, tg = self.venue(recruitment=False)
        city = tg["city"] if chat["role"] in ("shop_channel", "personal_chat", "website") else (chat["city"] or tg["city"])
        # Which payment accounts this ad names: drops active now (most ads), maybe the shop's wallet.
        active = self.active_drops(when)
        named: list[dict] = []
        if must_name is not None:
            i = must_name
            named.append({"i": i, "drop": shop.drops[i], "how": self._how(shop.drops[i])})
        elif active and rnd.chance(0.88):
            uncovered = [a for a in active if a[0] not in self.covered]
            pool = uncovered or active
            k = 1 if rnd.chance(0.8) else 2
            for i, d in rnd.sample(pool, k):
                named.append({"i": i, "drop": d, "how": self._how(d)})
        for d in named:
            self.covered.add(d["i"])
        wallets = [rnd.choice(shop.wallets)] if shop.wallets and rnd.chance(0.18 if named else 0.4) else []
        used: list[tuple[str, dict]] = []
        self.prices: dict[str, int] = {}
        primary = rnd.choice(self.products)
        ctx = self.ctx(city, lang, used, named, wallets, primary)
        structures = g.sale["site_structures"] if site else g.sale["structures"]
        structure = list(rnd.choice(structures))
        if (named or wallets) and "pay" not in [b.lstrip("?") for b in structure]:
            structure.append("pay")
        blocks = []
        for b in structure:
            optional = b.startswith("?")
            b = b.lstrip("?")
            if optional and not (b == "pay" and (named or wallets)) and rnd.chance(0.45):
                continue
            block = g.sale["blocks"][b]
            options = block.get(lang if lang != "mixed" else rnd.choice(self.mix)) or block.get("any") or block["ru"]
            blocks.append(g.sale_g.expand(rnd.choice(self.usable(options)), lang, rnd, ctx, self.mix))
        if site:
            ctx_tag = g.chats.city_tag(city)
            tg["url"] = f"https://{site}/{rnd.choice(('', 'catalog/', 'shop/', ctx_tag + '/'))}" if not site.endswith(".onion") \
                else f"http://{site}/{rnd.choice(('', 'market/', ctx_tag + '/'))}"
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        if not any(s.indicators for s in segs):  # an ad with no way to reach the shop is no ad
            segs += [Seg("\n")] + ctx["handle"](lang)
        if chat["platform"] == "telegram" and rnd.chance(0.15):
            # A linked call to action ("ЗАКАЗАТЬ" -> the bot) to a handle the ad also names in clear.
            named_tg = [i["value"] for s in segs for i in s.indicators if i["kind"] in ("bot", "telegram")]
            if named_tg:
                label = rnd.choice(_langs(g.sale["call_to_action"], lang, rnd, self.langs))
                segs += [Seg("\n")] + [Seg(label, entity="text_link", href=f"https://t.me/{rnd.choice(named_tg)}")]
        self._finish(segs, chat, when, "sale", "sale_ad", lang, city, author, tg, used,
                     ad={"account_ids": [d["drop"].account_id for d in named], "prices": dict(self.prices)})
        if not self.prices:
            # Prices the buyer gets from the bot or operator when the ad shows none.
            for _, p in used or [primary]:
                w = p["weights"][min(1, len(p["weights"]) - 1)]
                self.prices[f"{p['key']}:{_wstr(w)}{p['unit']}"] = self.price(p["key"], w)
            g.drafts[-1]["ad"]["prices"] = dict(self.prices)

    def usable(self, templates: list[str]) -> list[str]:
        """Templates whose contacts the shop has (no "Tor:" line for a shop without an onion site)."""
        missing = [m for m, have in (("{onion}", self.shop.onion), ("{site}", self.shop.domain)) if not have]
        ok = [t for t in templates if not any(m in t for m in missing)]
        return ok or templates

    def _how(self, d: DropSpell) -> str:
        if d.card and d.phone:
            x = self.rnd.random()
            return "card" if x < 0.6 else "phone" if x < 0.87 else "both"
        return "card" if d.card else "phone"

    def recruitment(self, when: datetime) -> None:
        g, rnd, shop = self.g, self.rnd, self.shop
        lang, self.mix = self.pick_lang()
        chat, author, tg = self.venue(recruitment=True)
        city = chat["city"] or tg["city"]
        used: list[tuple[str, dict]] = []
        self.prices = {}
        ctx = self.ctx(city, lang, used, [], [], rnd.choice(self.products))
        structure = rnd.choice(g.rec["structures"])
        blocks = []
        for b in structure:
            if b.startswith("?") and rnd.chance(0.45):
                continue
            block = g.rec["blocks"][b.lstrip("?")]
            options = block.get(lang if lang != "mixed" else rnd.choice(self.mix)) or block["ru"]
            blocks.append(g.rec_g.expand(rnd.choice(self.usable(options)), lang, rnd, ctx, self.mix))
        segs = join(blocks, "\n" if rnd.chance(0.6) else "\n\n")
        if not any(s.indicators for s in segs):
            segs += [Seg("\n")] + ctx["handle"](lang)
        self._finish(segs, chat, when, "recruitment", "recruitment", lang, city, author, tg, [], ad=None)

    def _finish(self, segs: list[Seg], chat: dict, when: datetime, label: str, kind: str, lang: str, city: str,
                author: str, tg: dict, used: list[tuple[str, dict]], ad: dict | None) -> None:
        g, rnd = self.g, self.rnd
        g.typos(segs)
        plain_text = plain(segs)  # the ad as it reads before disguise (typos are the writer's, not evasion)
        obfs: list[str] = []
        if rnd.chance(self.obf_rate * (0.7 if label == "recruitment" else 1.0)):
            # Shops keep to their habits, but copy tricks from others now and then.
            techniques = self.techniques if rnd.chance(0.7) else rnd.sample(TECHNIQUES, 1 + rnd.below(2))
            obfs = g.obf.apply(segs, techniques, rnd, rate=rnd.between(0.35, 0.9))
        cats = sorted({c for c, _ in used})
        if label == "recruitment":
            cats = []
        if chat["platform"] == "telegram":
            tg["photo"] = rnd.chance(0.45)
            tg["edited"] = rnd.chance(0.08)
        g.add_draft(segs, chat, when, label=label, kind=kind, lang=lang, obfuscations=obfs, shop_id=self.shop.shop_id,
                    categories=cats, city=city, author=author, plain_text=plain_text, ad=ad, tg=tg, url=tg.get("url"))


def _langs(block: dict, lang: str, rnd: Rand, langs: list[str]) -> list[str]:
    if lang == "mixed":
        lang = rnd.choice(langs)
    return block.get(lang) or block.get("any") or block["ru"]


def _round_price(p: float) -> int:
    """Prices as sellers round them: to 10 tenge under 1000, then 100, 500, 1000."""
    step = 10 if p < 1000 else 100 if p < 3000 else 500 if p < 30000 else 1000
    return max(step, int(round(p / step)) * step)


def _wstr(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def rng_poisson(rnd: Rand, lam: float) -> int:
    return int(rnd.rng.poisson(lam))


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
    t = _aware(t).astimezone(timezone.utc)
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
        "date": pa.array([_aware(p["date"]).astimezone(timezone.utc).replace(tzinfo=None) for p in result.posts], ts),
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
