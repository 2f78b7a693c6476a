"""The simulator's Telegram Desktop export: real structure, same posts as posts.jsonl, runs that rebuild the text."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow.parquet as pq
import pytest

from narcotrace import codecs
from narcotrace.sim.model import DropSpell, Shop
from narcotrace.sim.posts import generate_posts, write_posts

START = datetime(2026, 3, 1)  # naive = UTC, as the world generator may pass it
CHAT_TYPES = {"personal_chat", "bot_chat", "private_group", "private_supergroup", "public_supergroup",
              "private_channel", "public_channel", "saved_messages"}
ENTITY_TYPES = {"plain", "mention", "hashtag", "bot_command", "link", "email", "bold", "italic", "code", "pre",
                "text_link", "mention_name", "phone", "cashtag", "underline", "strikethrough", "blockquote",
                "bank_card", "spoiler", "custom_emoji", "unknown"}
# Field order of a message in tdesktop's SerializeMessage (a subset appears in any one message).
MESSAGE_ORDER = ["id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "actor", "actor_id", "action",
                 "title", "members", "inviter", "message_id", "from", "from_id", "author", "forwarded_from",
                 "saved_from", "reply_to_message_id", "via_bot", "photo", "file", "thumbnail", "media_type",
                 "sticker_emoji", "mime_type", "duration_seconds", "width", "height", "text", "text_entities"]


def _shop(i: int) -> Shop:
    cards = [f"4400430{i:02d}12340{k}" for k in range(3)]
    drops = [DropSpell(f"d{i}-{k}", c + codecs.luhn_check_digit(c), f"+7701555{i:02d}{k:02d}",
                       START + timedelta(days=4 * k), START + timedelta(days=4 * k + 4)) for k, c in enumerate(cards)]
    return Shop(f"ch-{i:04d}", f"Shop {i}", [f"kz_shop{i}_main", f"kz_shop{i}_rev"], [f"kz_shop{i}_bot"], None, None,
                ["Алматы"], ["ru", "kk", "en"], ["mephedrone", "cannabis"], drops)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("tg")
    res = generate_posts(np.random.default_rng(3), [_shop(1), _shop(2)], start=START, days=12, n_ordinary=600,
                         cities=["Алматы", "Астана"])
    write_posts(res, out)
    data = json.loads((out / "telegram" / "result.json").read_text(encoding="utf-8"))
    return out, res, data


def check_message(m: dict, consistent_text: bool = True) -> None:
    """Structure of one exported message, as tdesktop writes it."""
    keys = list(m)
    assert keys == sorted(keys, key=MESSAGE_ORDER.index), keys
    assert isinstance(m["id"], int) and m["type"] in ("message", "service")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", m["date"])
    assert isinstance(m["date_unixtime"], str) and m["date_unixtime"].isdigit()
    assert isinstance(m["text_entities"], list)
    for e in m["text_entities"]:
        assert e["type"] in ENTITY_TYPES and isinstance(e["text"], str)
        assert set(e) <= {"type", "text", "href", "user_id", "document_id", "language"}
    text = m["text"]
    if isinstance(text, list):
        flat = "".join(x if isinstance(x, str) else x["text"] for x in text)
        for x in text:
            assert isinstance(x, str) or (x["type"] in ENTITY_TYPES and x["type"] != "plain")
    else:
        assert isinstance(text, str)
        flat = text
    if consistent_text:  # the runs of "text" and "text_entities" are the same text
        assert flat == "".join(e["text"] for e in m["text_entities"])
    if m["type"] == "message":
        assert re.fullmatch(r"(user|channel|chat)\d+", m["from_id"])


def test_real_sample_passes_the_structure_check(shared_formats):
    # The checker below is only worth something if the real export passes it.
    sample = json.loads((shared_formats / "telegram" / "tele_dashboard-sample.json").read_text(encoding="utf-8"))
    for m in sample["messages"]:
        if "from_id" in m:  # the sample's ids are made up ("user000AX6969"); real ones are digits
            m["from_id"] = "user" + re.sub(r"\D", "", m["from_id"])
        check_message(m, consistent_text=False)  # its texts were hand-edited apart from their entities


def test_export_has_the_full_account_structure(export):
    _, _, data = export
    assert list(data) == ["about", "chats"]
    assert data["about"].startswith("Here is the data you requested.")
    assert list(data["chats"]) == ["about", "list"]
    for chat in data["chats"]["list"]:
        assert list(chat) == ["name", "type", "id", "messages"]
        assert chat["type"] in CHAT_TYPES and isinstance(chat["id"], int)
        ids = [m["id"] for m in chat["messages"]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for m in chat["messages"]:
            check_message(m)
            dt = datetime.strptime(m["date"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
            assert int(dt.timestamp()) == int(m["date_unixtime"])
            if chat["type"].endswith("channel") and m["type"] == "message":
                assert m["from_id"] == f"channel{chat['id']}" and m["from"] == chat["name"]
    types = {c["type"] for c in data["chats"]["list"]}
    assert {"public_channel", "public_supergroup", "personal_chat"} <= types
    assert any(m["type"] == "service" for c in data["chats"]["list"] for m in c["messages"])


def test_same_posts_as_jsonl_with_documented_mapping(export):
    out, res, data = export
    rows = {json.loads(line)["id"]: json.loads(line) for line in (out / "posts.jsonl").read_text("utf-8").splitlines()}
    truth = pq.read_table(out / "truth" / "posts.parquet").to_pylist()
    by_key = {(c["id"], m["id"]): (c, m) for c in data["chats"]["list"] for m in c["messages"] if m["type"] == "message"}
    telegram_posts = [t for t in truth if t["platform"] == "telegram"]
    assert len(by_key) == len(telegram_posts) == len(rows) - sum(t["platform"] == "web" for t in truth)
    for t in telegram_posts:
        chat, m = by_key[(t["tg_chat_id"], t["tg_message_id"])]
        row = rows[t["post_id"]]
        assert chat["name"] == row["channel"] and m["from"] == row["author"]
        flat = m["text"] if isinstance(m["text"], str) else "".join(
            x if isinstance(x, str) else x["text"] for x in m["text"])
        assert flat == row["text"]  # round trip: the runs concatenate to the post's text
        assert m["date"] == row["date"].rstrip("Z")


def test_contacts_are_exported_as_telegram_entities(export):
    _, res, data = export
    ents = [e for c in data["chats"]["list"] for m in c["messages"] for e in m["text_entities"]]
    kinds = {e["type"] for e in ents}
    assert {"mention", "link", "phone", "bank_card", "hashtag", "plain"} <= kinds
    for e in ents:
        if e["type"] == "bank_card":
            assert codecs.luhn_ok(re.sub(r"\D", "", e["text"]))
        if e["type"] == "mention":
            assert re.fullmatch(r"@\w{5,32}", e["text"])
    handles = {i["value"] for i in res.indicators if i["kind"] in ("telegram", "bot")}
    assert {e["text"][1:].lower() for e in ents if e["type"] == "mention"} <= handles


def test_chat_history_is_consistent(export):
    _, _, data = export
    replies = 0
    for chat in data["chats"]["list"]:
        ids = {m["id"] for m in chat["messages"]}
        stamps = [int(m["date_unixtime"]) for m in chat["messages"]]
        assert stamps == sorted(stamps), chat["name"]  # later ids are later messages
        for m in chat["messages"]:
            if "reply_to_message_id" in m:
                replies += 1
                assert m["reply_to_message_id"] in ids and m["reply_to_message_id"] < m["id"]
            if "edited" in m:
                assert int(m["edited_unixtime"]) > int(m["date_unixtime"])
    assert replies > 0
