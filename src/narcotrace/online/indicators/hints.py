"""The extractors' first tests: whether a post can hold an indicator of a kind at all.

Each extractor's full patterns are costly, so each first asks a much cheaper question that every match
of its patterns answers yes to (four digits in a row for a card, 25 letters and digits in a row for a
wallet, ...). Most posts answer no to most of them. `hints(text, low)` answers all of them in one pass over
the post (the compiled kernel `indicator_hints`), as the bits of `Scan.hints`; the patterns and
substrings below are the reference, which the kernel matches exactly (tests/online/test_textcore.py
fuzzes both), and the fallback when the kernel is not built.
"""

from __future__ import annotations

import re

from narcotrace.textcore import KERNELS

# -- on the text (after folding disguised characters) --
FOUR_DIGITS = 1  # cards: every layout has four digits in a row
DIGIT_RUN = 2  # phones: a run of digits and separators shorter than any phone (a letter O may cut one)
LETTER_GLUED = 4  # phones: a letter right before a digit, "+" or ")" ("8 7O7 ...", "Tel8701...")
IBAN_START = 8  # IBANs: two letters, two digits, no letter or digit before them (the candidate's start)
LONG_TOKEN = 16  # crypto: every address has 25+ ASCII letters and digits in a row
DISGUISED = 32  # invisible, fullwidth or mathematical characters, or a keycap mark: fold first
# -- on the lower-cased text --
DEFANG = 64  # a broken dot: "shop[.]kz", "shop dot kz", "shop (точка) kz"
TG_LINK = 128  # "t.me", "telegram." or "tg://": where a Telegram link can be
TG_WORD = 256  # a word for Telegram before a handle: "тг", "телега", "tg", "telegram"
# -- characters and substrings that every match of an extractor contains (`Extractor.gate`) --
AT = 512  # "@": e-mails, @mentions
DOT = 1024  # ".": URLs and domains
SLASH = 2048  # "/": obfuscated t.me links ("t . me / shop")
WA_LINK = 4096  # "wa.me" or "whatsapp.com" (lower-cased)
ONION = 8192  # ".onion" (lower-cased)
LABEL_SEP = 16384  # ":", "-", "–" or "—": "телега: shop_kz", "Оператор — shop_op24"

# Patterns start on a character class, with their look-behinds after it, so that the engine skips ahead in C
# when it runs them.
_TEXT_TESTS = (
    (FOUR_DIGITS, re.compile(r"\d\d{3}")),
    (DIGIT_RUN, re.compile(r"\d[\d \-.()+\u00a0]{5,}\d")),
    (LETTER_GLUED, re.compile(r"[\d)+](?<=[OoОоA-Za-z][\d)+])")),
    # Handles such as "shop24bot" do not pass it: 21 % of posts would, 0.2 % do.
    (IBAN_START, re.compile(r"\d\d(?<=[A-Za-z]{2}\d\d)(?<![A-Za-z0-9][A-Za-z]{2}\d\d)")),
    (LONG_TOKEN, re.compile(r"[0-9A-Za-z][0-9A-Za-z]{24}")),
)
# Characters that hide an indicator from a plain reader of the text: invisible ones, fullwidth and
# mathematical letters and digits ("@ｓｎｏｗ_ｋｚ", "𝟒𝟒𝟎𝟎 ..."). (The emoji variation selectors U+FE0E/U+FE0F
# are left alone: they follow emoji rather than hide identifiers.)
DISGUISED_CHARS = re.compile("[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                             "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0d\ufeff\uffa0\uff01-\uff5e"
                             "\U0001d400-\U0001d7ff]")
KEYCAP = "\u20e3"
DEFANG_HINTS = ("[.]", "(.)", "{.}", "dot]", "dot)", " dot ", "точка", " . ")
TG_LINK_HINTS = ("t.me", "telegram.", "tg://")
TG_WORD_HINTS = ("тг", "тел", "тлг", "tg", "tlg", "telegram")
_LOW_TESTS = ((DEFANG, DEFANG_HINTS), (TG_LINK, TG_LINK_HINTS), (TG_WORD, TG_WORD_HINTS),
              (WA_LINK, ("wa.me", "whatsapp.com")), (ONION, (".onion",)))
_CHAR_TESTS = ((AT, "@"), (DOT, "."), (SLASH, "/"), (LABEL_SEP, ":-\u2013\u2014"))


def hints_reference(text: str, low: str) -> int:
    """The bits of every first test, from the patterns and substrings themselves."""
    bits = 0
    for bit, rx in _TEXT_TESTS:
        if rx.search(text):
            bits |= bit
    if DISGUISED_CHARS.search(text) or KEYCAP in text:
        bits |= DISGUISED
    for bit, subs in _LOW_TESTS:
        if any(s in low for s in subs):
            bits |= bit
    for bit, chars in _CHAR_TESTS:
        if any(c in text for c in chars):
            bits |= bit
    return bits


hints = KERNELS.indicator_hints if KERNELS is not None else hints_reference
