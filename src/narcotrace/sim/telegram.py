"""Write the simulator's Telegram posts as a Telegram Desktop full-account export (result.json, JSON format).

Mirrors tdesktop's serializer (Telegram/SourceFiles/export/output/export_output_json.cpp): root "about" and
"chats" {"about", "list"}; each chat "name", "type", "id" (bare peer id), "messages"; each message its
fields in tdesktop's order (id, type, date, date_unixtime, edited, edited_unixtime, from, from_id,
forwarded_from, reply_to_message_id, photo, width, height, text, text_entities); "text" is a plain string when the message is
one plain run, else a list of strings and {"type", "text"[, "href"]} objects; "text_entities" always
lists every run as an object ("plain" included). Posts on web sites are not Telegram messages and are
left out. Post id -> (chat id, message id) is in truth/posts.parquet (tg_chat_id, tg_message_id).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from narcotrace.sim.posts import PostsResult

ABOUT = ("Here is the data you requested. Remember: Telegram is ad free, it doesn't use your data for ad targeting "
         "and doesn't sell it to others. Telegram only keeps the information it needs to function as a secure and "
         "feature-rich cloud service.\n\nCheck out Settings > Privacy & Security on Telegram's mobile apps for the "
         "relevant settings.")
ABOUT_CHATS = "This page lists all chats from this export."
PHOTO_SKIPPED = "(File not included. Change data exporting settings to download.)"
_HASHTAG = re.compile(r"(?<![\w#])#[^\W_]\w*")
_BOT_COMMAND = re.compile(r"(?<![\w/])/[a-zA-Z]\w{1,31}\b(?!/)")
_PLAIN_ENTITIES = re.compile(f"(?P<hashtag>{_HASHTAG.pattern})|(?P<bot_command>{_BOT_COMMAND.pattern})")
_CHANNEL_TYPES = ("public_channel", "private_channel")


def _utc(t: datetime) -> datetime:
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _date(t: datetime) -> tuple[str, str]:
    t = _utc(t)
    return t.strftime("%Y-%m-%dT%H:%M:%S"), str(int(t.timestamp()))


def text_parts(post: dict) -> list[tuple[str, str, str | None]]:
    """The post as Telegram text parts (type, text, href): plain runs between entities, hashtags and commands found."""
    parts: list[tuple[str, str, str | None]] = []
    segs = post.get("_segs")
    pieces = [(s.entity or "plain", s.text, s.href) for s in segs] if segs else [("plain", post["text"], None)]
    for etype, text, href in pieces:
        if not text:
            continue
        if etype == "plain":
            pos = 0
            for m in _PLAIN_ENTITIES.finditer(text):  # Telegram marks #hashtags and /commands by itself
                if m.start() > pos:
                    _push(parts, "plain", text[pos:m.start()], None)
                _push(parts, m.lastgroup, m.group(), None)
                pos = m.end()
            if pos < len(text):
                _push(parts, "plain", text[pos:], None)
        else:
            _push(parts, etype, text, href)
    if _bold_header(post) and parts and parts[0][0] == "plain":
        first = parts[0][1]
        line, nl, rest = first.partition("\n")
        if nl and line.strip():
            parts[0:1] = [("bold", line, None)] + ([("plain", nl + rest, None)])
    return parts


def _push(parts: list, etype: str, text: str, href: str | None) -> None:
    if etype == "plain" and parts and parts[-1][0] == "plain":
        parts[-1] = ("plain", parts[-1][1] + text, None)
    else:
        parts.append((etype, text, href))


def _bold_header(post: dict) -> bool:
    # Channel admins often bold the first line; decided by the post id so the export stays deterministic.
    return post.get("chat_type") in _CHANNEL_TYPES and int(post["id"][1:]) % 3 == 0


def serialize_text(parts: list[tuple[str, str, str | None]]) -> tuple[Any, list[dict]]:
    """("text", "text_entities") exactly as tdesktop's SerializeText writes them."""
    def obj(etype: str, text: str, href: str | None) -> dict:
        o = {"type": etype, "text": text}
        if etype == "text_link" and href:
            o["href"] = href
        return o

    entities = [obj(*p) for p in parts]
    if not parts:
        return "", []
    if len(parts) == 1 and parts[0][0] == "plain":
        return parts[0][1], entities
    return [p[1] if p[0] == "plain" else obj(*p) for p in parts], entities


def _message(post: dict) -> dict:
    tg = post.get("_tg") or {}
    date, unix = _date(post["date"])
    m: dict[str, Any] = {"id": post["tg_message_id"], "type": "message", "date": date, "date_unixtime": unix}
    if tg.get("edited"):
        m["edited"], m["edited_unixtime"] = _date(tg["edited"])
    m["from"] = post["author"]
    m["from_id"] = tg.get("from_id") or f"channel{post['tg_chat_id']}"
    if tg.get("forwarded_from"):
        m["forwarded_from"] = tg["forwarded_from"]
    if tg.get("reply_to"):
        m["reply_to_message_id"] = tg["reply_to"]
    if tg.get("photo"):
        m["photo"] = PHOTO_SKIPPED
        m["width"], m["height"] = (1280, 1280) if int(post["id"][1:]) % 2 else (960, 1280)
    m["text"], m["text_entities"] = serialize_text(text_parts(post))
    return m


def _service(chat: dict, ev: dict) -> dict:
    date, unix = _date(ev["date"])
    m: dict[str, Any] = {"id": ev["id"], "type": "service", "date": date, "date_unixtime": unix}
    if ev["action"] in ("create_channel", "create_group"):
        m["actor"] = chat["name"]
        m["actor_id"] = f"channel{chat['id']}" if chat["type"] != "private_group" else f"user{chat['id'] % 10**9}"
        m["action"] = ev["action"]
        m["title"] = chat["name"]
        if ev["action"] == "create_group":
            m["members"] = []
    else:
        m["actor"] = ev.get("actor")
        m["actor_id"] = f"user{(hash_int(ev.get('actor') or '') % 9 * 10**8) + 10**8 + ev['id']}"
        m["action"] = ev["action"]
        m["inviter"] = chat["name"]
    m["text"], m["text_entities"] = "", []
    return m


def hash_int(s: str) -> int:
    # A stable (not per-process randomised) small hash for synthetic user ids of service messages.
    h = 0
    for ch in s:
        h = (h * 131 + ord(ch)) % 1_000_003
    return h


def build_export(result: PostsResult) -> dict:
    """The export as a Python structure (keys in tdesktop's order)."""
    by_chat: dict[int, list[dict]] = {}
    for p in result.posts:
        if p.get("platform") == "telegram":
            by_chat.setdefault(p["tg_chat_id"], []).append(p)
    chats = []
    for chat in result.chats:
        if chat["platform"] != "telegram" or chat["id"] not in by_chat:
            continue
        msgs = [_service(chat, ev) for ev in chat.get("service", [])] + [_message(p) for p in by_chat[chat["id"]]]
        msgs.sort(key=lambda m: m["id"])
        chats.append((by_chat[chat["id"]][-1]["date"], {"name": chat["name"], "type": chat["type"], "id": chat["id"],
                                                         "messages": msgs}))
    # Desktop lists dialogs by their last message, newest first.
    chats.sort(key=lambda c: (_utc(c[0]), c[1]["id"]), reverse=True)
    return {"about": ABOUT, "chats": {"about": ABOUT_CHATS, "list": [c[1] for c in chats]}}


def write_export(result: PostsResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(build_export(result), f, ensure_ascii=False, indent=1)
