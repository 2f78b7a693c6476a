"""Telegram handles: t.me / telegram.me / tg:// links, @mentions, and lightly obfuscated contacts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from narcotrace import identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, KeyedPattern, Scan

# Telegram usernames: 5-32 of a-z, 0-9 and "_", starting with a letter (a few auctioned ones have 4).
_NAME = r"[a-z][a-z0-9_]{3,31}"
_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/(?:s/)?(?P<name>[a-z][a-z0-9_]{3,31})(?![a-z0-9_])"
    r"|tg://resolve\?domain=(?P<tgname>[a-z][a-z0-9_]{3,31})")
# "t . me / shop", "t[.]me/shop", "т.ме/shop": a link broken up so that it is not clickable
_LINK_OBFUSCATED = re.compile(
    r"[tт](?<![a-z0-9][tт])\s*(?:\.|\[\.\]|\(\.\)|\s(?:dot|точка)\s)\s*(?:me|ме)\s*/\s*@?(?P<name>" + _NAME + r")(?![a-z0-9_])")
_ME_SLASH = re.compile(r"(?:me|ме)\s*/")  # in every obfuscated link: a cheap first test
# Invite links name no user: they are kept as URLs (case matters in the hash), with no handle or domain.
_INVITE = re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:\+|joinchat/)[A-Za-z0-9_-]{6,}", re.IGNORECASE)
# The "@" comes before the look-behind that checks what precedes it, so the engine can skip to each "@"
# instead of trying the pattern at every position (8x faster on a typical post).
_MENTION = re.compile(r"@(?<![\w@.+-]@)(?P<name>" + _NAME + r")(?![\w@]|\.[a-z]{2,})")
_MENTION_SPACED = re.compile(r"@(?<![\w@.]@)\s{1,2}(?P<name>" + _NAME + r")(?![\w@])")
# "телега: shop_kz", "тг - @shop_kz", "telegram: shopkz_bot"
_KEYWORD = re.compile(
    r"(?:т(?<!\w.)(?:елег\w*|г|лг)|t(?<!\w.)(?:elegram\w*|g|lg))\s*(?P<sep>[:\-–—]|\s)\s*@?(?P<name>"
    + _NAME + r")(?![\w@.])")
# "Оператор: shop_op24", "Бот — kz_shop_bot": a handle-looking name after a contact label and a colon or dash
_AFTER_COLON = re.compile(r"[:\-–—]\s*(?P<name>" + _NAME + r")(?![\w@.])")  # starts on the colon: cheap
_LABEL_BEFORE = re.compile(
    r"(?<!\w)(?:оператор\w*|operator|бот|bot|админ\w*|admin|контакт\w*|contacts?|связь|пиши\w*|жаз\w*|write|"
    r"лс|dm|заказ\w*|order)\s*$")
# "@name" right after another network's name is that network's account, not a Telegram handle
_OTHER_NETWORK_BEFORE = KeyedPattern(
    r"(?:instagram|insta|инстаграм\w*|инста\w*|\big|\bинст|tiktok|тикток\w*|twitter|твиттер\w*|\bx\.com|"
    r"\bvk|\bвк|вконтакте|threads|snapchat|снэпчат\w*|youtube|ютуб\w*|facebook|фейсбук\w*)\W{0,4}$",
    keys=("insta", "инст", "ig", "tiktok", "тикток", "twitter", "твиттер", "x.com", "vk", "вк", "threads", "snapchat",
          "снэпчат", "youtube", "ютуб", "facebook", "фейсбук"))
_CONTACT_WORDS = re.compile(r"(?:тг|tg|телег|telegram|пиши|оператор|контакт|связь|жазыңыз|contact|dm|order)")


# t.me paths that are Telegram features, not usernames (t.me/joinchat/<hash> is an invite link)
_RESERVED = frozenset("joinchat addstickers addemoji addtheme addlist share proxy socks iv login setlanguage "
                      "confirmphone contact boost invoice giftcode bg".split())


def _valid(name: str) -> bool:
    return not name.endswith("_") and "__" not in name and name not in _RESERVED


def _indicator(name: str, start: int, end: int, how: str) -> Indicator:
    name = name.lower()
    return Indicator("telegram", name, identifiers.telegram(name), None, start, end,
                     {"is_bot": name.endswith("bot"), "found_as": how})


class TelegramLinks(Extractor):
    """t.me, telegram.me, telegram.dog and tg://resolve links (run before web URLs, which skip them)."""

    kind = "telegram"
    gate = hints.TG_LINK | hints.SLASH

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        low = scan.lower
        firsts = ([i for i in (low.find(h) for h in hints.TG_LINK_HINTS) if i >= 0]
                  if scan.hints & hints.TG_LINK else [])
        if firsts:
            # Every link holds one of those three; at most "https://www." comes before it. The patterns begin
            # with optional parts, so the engine tries them at every position: start where a link can.
            lo = max(0, min(firsts) - len("https://www."))
            for m in _INVITE.finditer(scan.text, lo):
                if scan.free(*m.span()):
                    url = m.group()
                    yield Indicator("url", url, "url:" + url, None, m.start(), m.end(), {"telegram_invite": True})
            for m in _LINK.finditer(low, lo):
                name = m.group("name") or m.group("tgname")
                if _valid(name) and scan.free(*m.span()):
                    yield _indicator(name, m.start(), m.end(), "link")
        if "/" in low and _ME_SLASH.search(low):
            for m in _LINK_OBFUSCATED.finditer(low):
                if _valid(m.group("name")) and scan.free(*m.span()):
                    yield _indicator(m.group("name"), m.start(), m.end(), "obfuscated_link")


class TelegramMentions(Extractor):
    """@handles, "@ handle" and "телега: handle" (run after e-mails and URLs have claimed their spans)."""

    kind = "telegram"
    gate = hints.AT | hints.TG_WORD | hints.LABEL_SEP

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        low = scan.lower
        if "@" in low:
            for m in _MENTION.finditer(low):
                if _OTHER_NETWORK_BEFORE.search(low, max(0, m.start() - 16), m.start()):
                    continue
                if _valid(m.group("name")) and scan.free(*m.span()):
                    yield _indicator(m.group("name"), m.start(), m.end(), "mention")
            for m in _MENTION_SPACED.finditer(low):
                name = m.group("name")
                # "@ home" is English; a spaced handle must look like one or follow a contact word
                looks = "_" in name or any(c.isdigit() for c in name) or name.endswith(("bot", "shop"))
                near = _CONTACT_WORDS.search(low, max(0, m.start() - 25), m.start())
                if _valid(name) and (looks or near) and scan.free(*m.span()):
                    yield _indicator(name, m.start(), m.end(), "spaced_mention")
        if scan.hints & hints.TG_WORD:
            for m in _KEYWORD.finditer(low):
                name = m.group("name")
                looks = "_" in name or any(c.isdigit() for c in name) or name.endswith("bot")
                if _valid(name) and (looks or m.group("sep").strip()) and scan.free(m.start("name"), m.end()):
                    yield _indicator(name, m.start("name"), m.end(), "keyword")
        if ":" in low or "-" in low or "—" in low or "–" in low:
            for m in _AFTER_COLON.finditer(low):
                name = m.group("name")
                looks = "_" in name or any(c.isdigit() for c in name) or name.endswith("bot")
                if not looks or not _LABEL_BEFORE.search(low, max(0, m.start() - 16), m.start()):
                    continue
                if _valid(name) and scan.free(m.start("name"), m.end()):
                    yield _indicator(name, m.start("name"), m.end(), "labelled")
