"""The Telegram chats (and shop web sites) the synthetic posts appear in: names, types, ids, usernames."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from narcotrace.sim.text import load
from narcotrace.sim.text.grammar import Rand
from narcotrace.sim.text.obfuscate import word_script

if TYPE_CHECKING:
    from narcotrace.sim.model import Shop


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
        return info.get("tag") or re.sub(r"\W+", "", translit(city).lower()) or "kz"

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
            stem = re.sub(r"[^a-z0-9]+", "_", translit(title).lower()).strip("_")
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


def translit(text: str) -> str:
    global _TRANSLIT
    if _TRANSLIT is None:
        _TRANSLIT = load("obfuscation")["translit"]
    return "".join(_TRANSLIT.get(ch.lower(), ch) if word_script(ch) == "C" else ch for ch in text)

