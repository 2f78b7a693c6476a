"""Telegram Desktop JSON exports (`result.json`): one chat, or a whole account (`chats.list`, `left_chats.list`).

Streamed with ijson chat by chat and message by message, so a full-account export of hundreds of MB is
never loaded whole. The chat's `name`, `type` and `id` precede its `messages` in the files Telegram Desktop
writes (export_output_json.cpp), which is what lets a message be tagged with its chat as it streams past.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from narcotrace.online.sources.accounting import FileReport
from narcotrace.online.sources.base import Quarantined, RawPost
from narcotrace.online.sources.fields import parse_date
from narcotrace.online.sources.textfile import MAX_ROW_BYTES, SNIFF_BYTES, file_problem

# Entities the indicator extractor uses: Telegram already found these, with their exact extent.
PASSED_ENTITIES = {"mention", "mention_name", "text_link", "link", "phone", "bank_card", "email"}

_CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
_MESSAGE_PREFIXES = {(p + "." if p else "") + "messages.item": p for p in _CHAT_PREFIXES}
_HEADER_KEYS = {(p + "." if p else "") + k: (p, k) for p in _CHAT_PREFIXES for k in ("name", "type", "id")}
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# Telegram launched in 2013; a unix time before that is a placeholder (some tools write "0000000000").
_EARLIEST = 1_356_998_400


def read(path: Path, report: FileReport, *, captured_at: datetime,
         max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[RawPost | Quarantined]:
    source = str(path)
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
        problem = file_problem(head, "a Telegram export")
        if problem:
            report.error = problem
            yield Quarantined(source, 0, problem)
            return
        report.encoding = "UTF-8"
        f.seek(0)
        layout = _Layout.scan(f)
        if layout.error and not layout.root_keys:
            report.error = f"not JSON ({layout.error}); expected a Telegram Desktop export (result.json)"
            yield Quarantined(source, 0, report.error)
            return
        index = 0
        broken: str | None = None
        for prefix, chats in layout.sections.items():
            # Second pass per section: ijson builds the messages in C; the first pass told us which chat
            # each one belongs to (chats appear in file order with their message counts).
            f.seek(0)
            owners = iter(chats)
            # One chat owns every message of a single-chat export: no need to have counted them.
            chat, remaining = (chats[0][0], -1) if prefix == "messages.item" else ({}, 0)
            try:
                for msg in ijson.items(f, prefix, use_float=True):
                    while remaining == 0:
                        chat, remaining = next(owners, ({}, -1))
                    remaining -= 1
                    index += 1
                    item = _message(msg, chat, source, index, captured_at, max_row_bytes, report)
                    if item is not None:
                        yield item
            except ijson.JSONError as e:
                broken = str(e)
                break
        if broken or layout.error:
            yield Quarantined(source, index + 1, f"JSON broken after message {index} ({broken or layout.error}); "
                                                 + ("the messages before it were read" if index
                                                    else "nothing could be read"))
            return
        n_chats = sum(len(c) for p, c in layout.sections.items() if p != "messages.item")
        if n_chats:
            report.notes.append(f"{n_chats:,} chats")
        if not ({"messages", "chats", "left_chats"} & layout.root_keys):
            report.error = ("not a Telegram Desktop export: the JSON has no 'messages' (one chat) or 'chats' "
                            "(whole account); export with Telegram Desktop > Export chat history > JSON")
            yield Quarantined(source, 0, report.error)


class _Layout:
    """First pass over an export: the chats in file order, each with its header and message count."""

    def __init__(self) -> None:
        self.root_keys: set[str] = set()
        # message prefix -> [[chat header, message count], ...] in file order
        self.sections: dict[str, list[list[Any]]] = {}
        self.error: str | None = None

    @classmethod
    def scan(cls, f: Any) -> _Layout:
        layout = cls()
        root: list[Any] = [{}, 0]
        current: dict[str, Any] = {"": root, "chats.list.item": None, "left_chats.list.item": None}
        try:
            for prefix, event, value in ijson.parse(f, use_float=True):
                if event == "start_map":
                    if prefix in _MESSAGE_PREFIXES:
                        current[_MESSAGE_PREFIXES[prefix]][1] += 1
                    elif prefix in ("chats.list.item", "left_chats.list.item"):
                        current[prefix] = [{}, 0]
                        layout.sections.setdefault(prefix + ".messages.item", []).append(current[prefix])
                elif prefix in _HEADER_KEYS:
                    if event in ("string", "number"):
                        chat_prefix, key = _HEADER_KEYS[prefix]
                        current[chat_prefix][0][key] = value
                elif prefix == "" and event == "map_key":
                    layout.root_keys.add(value)
                    if value == "messages":
                        layout.sections["messages.item"] = [root]
                        if "chats" not in layout.root_keys:
                            # A single-chat export: its header came first, nothing after matters here.
                            break
        except ijson.JSONError as e:
            layout.error = str(e)
        # Whole-account sections in file order: chats before left_chats.
        order = ["messages.item", "chats.list.item.messages.item", "left_chats.list.item.messages.item"]
        layout.sections = {p: layout.sections[p] for p in order if p in layout.sections}
        return layout


def _message(msg: Any, chat: dict[str, Any], source: str, index: int, captured_at: datetime,
             max_row_bytes: int, report: FileReport) -> RawPost | Quarantined | None:
    raw = _CANONICAL.encode(msg).encode()
    if not isinstance(msg, dict):
        return Quarantined(source, index, "message is not a JSON object", raw[:2000].decode())
    kind = msg.get("type", "message")
    if kind == "service":
        report.skipped["service messages"] += 1
        return None
    if kind != "message":
        report.skipped[f"messages of type {kind!r}"] += 1
        return None
    if "id" not in msg:
        return Quarantined(source, index, "message has no id", raw[:2000].decode())
    if len(raw) > max_row_bytes:
        return Quarantined(source, index, f"message is {len(raw):,} bytes, over the {max_row_bytes:,}-byte "
                                          "limit for one post", raw[:2000].decode("utf-8", "replace"))
    text, entities, links = message_text(msg)
    if not text.strip():
        report.skipped["messages without text (media, stickers)"] += 1
        return None
    chat_id = chat["id"] if "id" in chat else (Path(source).parent.name or "chat")
    extra = {k: msg[k] for k in ("from_id", "forwarded_from", "saved_from", "via_bot", "reply_to_message_id",
                                 "edited") if msg.get(k) is not None}
    if chat.get("type"):
        extra["chat_type"] = chat["type"]
    return RawPost(
        post_id=f"{chat_id}/{msg['id']}",
        text=text,
        source=source,
        source_row=index,
        source_format="telegram",
        captured_at=captured_at,
        sha256=hashlib.sha256(raw).hexdigest(),
        channel=chat.get("name") or str(chat_id),
        author=msg.get("from") or msg.get("author") or msg.get("from_id"),
        date=message_date(msg),
        links=links,
        entities=entities,
        extra=extra,
    )


def message_text(msg: dict[str, Any]) -> tuple[str, list[dict], list[str]]:
    """Text of a message, its passed-on entities (with offsets into that text) and its hidden link targets.

    `text` is the message as a string, or as a list of runs (plain strings and typed objects) when it
    has entities; `text_entities` (exports since 2021) is always a list of typed runs. The `text` field
    wins when the two disagree, so the post's text is always exactly what the export shows.
    """
    text = msg.get("text", "")
    runs: list[Any]
    if isinstance(text, list):
        runs = text
    else:
        text = text if isinstance(text, str) else ""
        typed = msg.get("text_entities")
        if isinstance(typed, list) and typed and "".join(
                r.get("text", "") if isinstance(r, dict) else "" for r in typed) == text:
            runs = typed
        else:
            runs = [text]
    parts: list[str] = []
    entities: list[dict] = []
    links: list[str] = []
    offset = 0
    for run in runs:
        run_text: str
        if isinstance(run, str):
            run_text, kind, extra = run, "plain", {}
        elif isinstance(run, dict):
            value = run.get("text")
            run_text = value if isinstance(value, str) else ""
            kind = str(run.get("type", "plain"))
            extra = {k: run[k] for k in ("href", "user_id", "document_id") if k in run}
        else:
            continue
        if kind in PASSED_ENTITIES:
            entity = {"type": kind, "text": run_text, "offset": offset, "length": len(run_text), **extra}
            entities.append(entity)
            if kind == "text_link" and extra.get("href"):
                links.append(extra["href"])
        parts.append(run_text)
        offset += len(run_text)
    return "".join(parts), entities, links


def message_date(msg: dict[str, Any]) -> datetime | None:
    """`date_unixtime` (UTC) when real; else `date`, which is the exporting computer's local time."""
    unix = msg.get("date_unixtime")
    try:
        seconds = int(unix) if unix is not None else 0
    except (TypeError, ValueError):
        seconds = 0
    if seconds >= _EARLIEST:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    return parse_date(msg.get("date"))
