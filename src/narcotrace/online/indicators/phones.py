"""Phone numbers (phonenumbers, default region KZ, E.164), skipping order numbers, prices, IPs and dates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from narcotrace import identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, KeyedPattern, Scan

REGION = "KZ"
# Digit runs with the separators people put in phone numbers; phonenumbers decides what is a number.
# A number may be glued to a Cyrillic word ("звони87011234567", "87011234567или..."), not to Latin letters
# or underscores, which make it part of a code, a hash or a file name. (It starts on one character class,
# looking behind only from there, so that the engine skips to digits, "+" and "(" in C.)
_CANDIDATE = re.compile(r"[\d+(](?<![0-9A-Za-z_+(][\d+(])(?:(?<=\d)|(?<=\+)\s?\d|(?<=\()\d)"
                        r"[\d \-.()+\u00a0]{7,}\d(?!\d)")
_LONGEST = 40  # characters: the longest way people write one phone number
_PHONE_SHAPED = re.compile(r"(?<![\d+])(?:\+\s?\d{1,3}[ \-]?)?\(?\d{2,5}\)?(?:[ \-.]?\d{2,4}){2,4}(?!\d)")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE = re.compile(r"\d{1,4}[.\-/]\d{1,2}[.\-/]\d{2,4}")
# A number right after these words is an order, tracking, tax or account number, not a phone.
_NOT_PHONE_BEFORE = KeyedPattern(
    r"(?:№|#|заказ\w*|order|трек\w*|track\w*|иин|iin|бин|bin|инн|сч[её]т\w*|account|накладн\w*|invoice|"
    r"(?<![a-zа-я])(?:id|ид|айди)(?:\s+(?:пользовател\w*|user|клиент\w*))?|uid|(?<![а-я])дел[оау]|ттн|"
    r"номер заказа|артикул|sku|код)(?:[\s-]*(?:номер\w*|number|no\.?|nr\.?))?\W{0,3}$",
    keys=("№", "#", "заказ", "order", "трек", "track", "иин", "iin", "бин", "bin", "инн", "сч", "account", "накладн",
          "invoice", "id", "ид", "айди", "дел", "ттн", "артикул", "sku", "код"))
# "8 7O7 123 45 67": the letter O (Latin or Cyrillic) for a zero inside a number. Read as 0 for phones
# only, one character for one, so spans hold; a phone must still validate.
# "Tel87011234567", "WhatsApp+77011234567": a Latin contact word glued to the number is blanked for phones
# (Both start on a character class, with their look-behinds after it, so that the engine skips to candidates
# in C: the same matches as "(?<![a-z])(?:tel|...)" and "(?<=[\d(])[OoОо]{1,3}...", six times cheaper.)
_LATIN_CONTACT_GLUED = re.compile(
    r"[TtPpWwCcMmNn](?i:(?<![a-z].)(?:(?<=t)el|(?<=p)hone|(?<=w)hatsapp|(?<=w)a|(?<=c)all|(?<=m)ob"
    r"|(?<=m)obile|(?<=n)omer))(?=\+?\d)")
_O_FOR_ZERO = re.compile(r"[OoОо](?:(?<=[\d(][OoОо])[OoОо]{0,2}(?=[\d)])|(?<=\d[ \-.][OoОо])[OoОо]?(?=\d))")
# Written the way phones are and prices are not: "+7 ...", "87011234567", "... 123 45 67"
_PHONE_LAYOUT = re.compile(r"^\+|^[78]\d{10}$|\d{3}[ \-.]?\d{2}[ \-.]\d{2}$")
_CURRENCY_AFTER = re.compile(r"\s?(?:тг|тенге|₸|kzt|руб|₽|\$|usd|eur|€|сом|сум)", re.I)


# The usual Kazakh/Russian layouts ("+7 701 123 45 67", "8 (701) 123-45-67", "87011234567"): validated
# from the digits directly, which is several times cheaper than phonenumbers' text matcher.
_KZ_LAYOUT = re.compile(
    r"(?P<prefix>\+\s?7|8|7)?[ \-.\u00a0]*(?P<open>\()?(?P<a>\d{3})(?(open)\))[ \-.\u00a0]*"
    r"(?P<b>\d{3})[ \-.\u00a0]*(?P<c>\d{2})[ \-.\u00a0]*(?P<d>\d{2})")


# Whether a 10-digit +7 number is valid depends on its first 6 digits only: in the metadata of the pinned
# phonenumbers, every Kazakh and Russian pattern for 10 digits is a prefix of at most 6 digits followed by
# \d{k} (tests/online/test_indicators.py checks it on random numbers of every prefix length). So a number
# is validated by phonenumbers once per prefix, not once per number: a stream of shops' fresh numbers
# costs a look-up each instead of ~33 µs.
PLUS7_PREFIX = 6
_PLUS7_VALID: dict[str, bool] = {}  # first 6 national digits -> valid


def _plus7(national: str) -> tuple[str, str] | None:
    """(E.164, region) of a +7 number with 10 national digits, or None when it is not valid."""
    prefix = national[:PLUS7_PREFIX]
    valid = _PLUS7_VALID.get(prefix)
    if valid is None:
        valid = identifiers.phone("+7" + national) == "phone:+7" + national
        if len(_PLUS7_VALID) > 200_000:  # at most 10**6 prefixes; bounded all the same
            _PLUS7_VALID.clear()
        _PLUS7_VALID[prefix] = valid
    # +7 is shared: Kazakhstan has the national ranges 6xx and 7xx, Russia the rest
    return ("+7" + national, "KZ" if national[0] in "67" else "RU") if valid else None


def _numbers_in(snippet: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, E.164, region) of every valid number in a candidate snippet."""
    m = _KZ_LAYOUT.fullmatch(snippet)
    if m and (m.group("prefix") or m.group("a")[0] == "7"):
        national = m.group("a") + m.group("b") + m.group("c") + m.group("d")
        hit = _plus7(national)
        return ((0, len(snippet), hit[0], hit[1]),) if hit else ()
    return _matched_numbers(snippet)


@lru_cache(maxsize=65536)
def _matched_numbers(snippet: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, E.164, region) of every valid number in a candidate snippet (cached: shops repeat)."""
    out = []
    for m in PhoneNumberMatcher(snippet, REGION, leniency=Leniency.VALID):
        e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
        if identifiers.phone(e164) is not None:  # the shared canonical form must accept it too
            out.append((m.start, m.end, e164, phonenumbers.region_code_for_number(m.number) or ""))
    return tuple(out)


# wa.me/77011234567, api.whatsapp.com/send?phone=77011234567: the contact is the phone number
_WHATSAPP = re.compile(
    r"(?:https?://)?(?:wa\.me/|(?:api\.|web\.)?whatsapp\.com/send/?\?(?:[^\s#]*&)?phone=)\+?(?P<digits>\d{8,15})"
    r"[^\s<>\"'«»]*", re.IGNORECASE)


class WhatsAppLinks(Extractor):
    """WhatsApp click-to-chat links, read as the phone they open (run before web URLs)."""

    kind = "phone"
    gate = hints.WA_LINK

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _WHATSAPP.finditer(scan.text):
            canonical = identifiers.phone("+" + m.group("digits"))
            end = m.end()
            while end > m.start() and scan.text[end - 1] in ".,;:!?)»":
                end -= 1
            if canonical is not None and scan.free(m.start(), end):
                e164 = canonical.removeprefix("phone:")
                yield Indicator("phone", e164, canonical, None, m.start(), end, {"whatsapp": True})


class Phones(Extractor):
    kind = "phone"
    gate = hints.DIGIT_RUN

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        text = scan.text
        if scan.hints & hints.LETTER_GLUED:  # "8 7O7 ...", "Tel8701...": the phone view of the text
            text = _O_FOR_ZERO.sub(lambda m: "0" * len(m.group()), text)
            text = _LATIN_CONTACT_GLUED.sub(lambda m: " " * len(m.group()), text)
        for cand in _CANDIDATE.finditer(text):
            # a card or IBAN claimed inside the run splits it: "4400 4300 1234 5678 8 701 123 45 67"
            for seg_start, seg_end in scan.free_segments(*cand.span()):
                yield from self._in_segment(scan, text, seg_start, seg_end)

    def _in_segment(self, scan: Scan, text: str, seg_start: int, seg_end: int) -> Iterator[Indicator]:
        if seg_end - seg_start > _LONGEST:
            # a long run of digits and separators (a table, a list of numbers): read phone-sized pieces
            for piece in _PHONE_SHAPED.finditer(text, seg_start, seg_end):
                if piece.end() - piece.start() <= _LONGEST:
                    yield from self._in_segment(scan, text, piece.start(), piece.end())
            return
        snippet = text[seg_start:seg_end]
        if sum(map(str.isdigit, snippet)) < 9 or _IP.fullmatch(snippet.strip()):
            return
        cut = snippet.find(". ")
        if cut >= 0:
            # "19 500. 8 (778) 485 80 63", "7. +7 701 ...": a number ending a sentence or a list item before
            # the phone, in one run of digits and separators. No phone is written across a full stop and a
            # space, so the parts are read apart: each may then be a usual layout (a look-up), where the
            # whole run would go through phonenumbers' text matcher (~1 ms).
            yield from self._in_segment(scan, text, seg_start, seg_start + cut + 1)
            yield from self._in_segment(scan, text, seg_start + cut + 2, seg_end)
            return
        for s, e, e164, region in _numbers_in(snippet):
            start, end = seg_start + s, seg_start + e
            raw = text[start:end]
            before = scan.lower[max(0, start - 20):start]
            if not raw.startswith("+") and (_NOT_PHONE_BEFORE.search(before) or _DATE.fullmatch(raw)):
                continue
            if (_CURRENCY_AFTER.match(text, end) and not _PHONE_LAYOUT.search(raw)) or not scan.free(start, end):
                continue  # "7 000 000 000 тг" is a price; "87011234567 тг @shop" a phone and Telegram
            # identifiers.phone() of an E.164 number it accepted is "phone:" + that number
            yield Indicator("phone", e164, "phone:" + e164, None, start, end, {"region": region})
