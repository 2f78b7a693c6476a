"""Telegram Desktop exports: single chat and whole account, text runs, entities, service messages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from narcotrace.online.sources import Quarantined, RawPost, ReadReport, read_posts
from narcotrace.online.sources.telegram import message_text

FX = Path(__file__).resolve().parents[1] / "fixtures" / "online"


def _read(*paths, fmt="auto"):
    report = ReadReport()
    items = list(read_posts([str(p) for p in paths], fmt, report=report))
    return ([i for i in items if isinstance(i, RawPost)], [i for i in items if isinstance(i, Quarantined)],
            report)


def test_single_chat_export_folder():
    posts, bad, report = _read(FX / "telegram_chat")
    assert not bad
    assert [p.post_id for p in posts] == ["1000000001/2", "1000000001/3", "1000000001/5", "1000000001/6"]
    assert {p.channel for p in posts} == {"Test Shop KZ"}
    fr = report.files[0]
    assert fr.format == "telegram"
    assert fr.skipped["service messages"] == 1
    assert fr.skipped["messages without text (media, stickers)"] == 1
    assert fr.posts == 4


def test_entities_links_and_text_of_a_message():
    posts, _, _ = _read(FX / "telegram_chat" / "result.json")
    shop = posts[0]
    assert shop.text.startswith("Мефедрон 1г — 15000 тг. Оператор: @Test_Operator, сайт: тут")
    kinds = {e["type"]: e for e in shop.entities}
    assert set(kinds) == {"mention", "text_link", "phone", "bank_card", "link", "email", "mention_name"}
    for e in shop.entities:  # offsets point into the assembled text
        assert shop.text[e["offset"]:e["offset"] + e["length"]] == e["text"]
    assert kinds["bank_card"]["text"] == "4111 1111 1111 1111"
    assert kinds["mention_name"]["user_id"] == 123456
    assert shop.links == ["https://test-shop.example.kz/menu"]  # the hidden href of "тут"
    assert shop.author == "Test Shop" and shop.extra["from_id"] == "channel1000000001"
    assert shop.date.isoformat() == "2026-09-21T14:13:22"  # from date_unixtime, UTC
    # provenance: sha256 of the message as canonical JSON
    msg = json.loads((FX / "telegram_chat" / "result.json").read_text())["messages"][1]
    canon = json.dumps(msg, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert shop.sha256 == hashlib.sha256(canon).hexdigest()
    assert shop.source_row == 2
    recruiter = posts[1]
    assert recruiter.extra["forwarded_from"] == "Test HR"


def test_old_export_text_runs_without_text_entities_and_placeholder_unix_time():
    posts, _, _ = _read(FX / "telegram_chat" / "result.json")
    old = next(p for p in posts if p.post_id.endswith("/5"))
    assert old.text == "Кристаллы ❄️ опт по ссылке"
    assert old.links == ["http://crystal.example.org/"]
    assert old.date.isoformat() == "2026-10-01T15:00:05"  # no date_unixtime: the `date` field
    placeholder = next(p for p in posts if p.post_id.endswith("/6"))
    assert placeholder.date.isoformat() == "2026-10-01T15:00:06"  # "0000000000" is not a date


def test_full_account_export_reads_chats_and_left_chats():
    posts, bad, report = _read(FX / "telegram_account.json")
    assert not bad
    assert [(p.post_id, p.channel) for p in posts] == [
        ("2000000001/10", "Shop One"), ("42/1", "42"), ("3000000001/7", "Old Group")]
    assert posts[0].extra["chat_type"] == "private_supergroup"
    assert report.files[0].skipped["service messages"] == 1
    assert "3 chats" in report.files[0].notes


def test_real_public_sample(shared_formats):
    posts, bad, report = _read(shared_formats / "telegram" / "tele_dashboard-sample.json")
    sample = json.loads((shared_formats / "telegram" / "tele_dashboard-sample.json").read_text())
    messages = sample["messages"]
    service = sum(1 for m in messages if m["type"] == "service")
    fr = report.files[0]
    # every message is a post, quarantined or counted as skipped
    assert fr.read + sum(fr.skipped.values()) == len(messages)
    assert fr.skipped["service messages"] == service
    assert not bad and all(p.channel == "Sample Chat Group" for p in posts)
    with_list_text = [m for m in messages if m["type"] == "message" and isinstance(m["text"], list)]
    assert with_list_text, "the sample has run lists"
    for m in with_list_text[:20]:
        text, _, _ = message_text(m)
        assert text == "".join(r if isinstance(r, str) else r["text"] for r in m["text"])


def test_truncated_export_keeps_messages_before_the_break(tmp_path):
    whole = (FX / "telegram_chat" / "result.json").read_text(encoding="utf-8")
    cut = whole[: whole.index('"id": 5')]
    p = tmp_path / "result.json"
    p.write_text(cut, encoding="utf-8")
    posts, bad, report = _read(p)
    assert [x.post_id for x in posts] == ["1000000001/2", "1000000001/3"]
    assert len(bad) == 1 and bad[0].reason.startswith("JSON broken after message 4")


def test_json_that_is_not_an_export(tmp_path):
    p = tmp_path / "other.json"
    p.write_text('{\n "name": "x",\n "items": []\n}\n')
    _, bad, report = _read(p)
    assert bad[0].reason.startswith("not a Telegram Desktop export") and report.files[0].error
