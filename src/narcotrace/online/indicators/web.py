"""Web indicators: URLs, registered domains (public suffix list, offline), onion v3 addresses, e-mails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import tldextract

from narcotrace import codecs, identifiers
from narcotrace.online.indicators import hints
from narcotrace.online.indicators.base import Extractor, Indicator, Scan
from narcotrace.online.indicators.crypto import addresses_in_url

# The public suffix list snapshot shipped inside tldextract; never fetched. Private suffixes count
# (github.io, blogspot.com), so a shop on foo.blogspot.com yields foo.blogspot.com, not blogspot.com,
# which would block everyone on it.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)

_LABEL = r"[a-z0-9\u0400-\u04ff](?:[a-z0-9\u0400-\u04ff-]{0,61}[a-z0-9\u0400-\u04ff])?"
_HOST = rf"(?:{_LABEL}\.)+{_LABEL}"
# A path ends at white space, brackets and quotes of prose, dashes and emoji ("…/menu🔥", "…/menu—заходи").
_NOT_IN_PATH = ("\\s<>\"'«»{}|\\\\^`“”„‘’\u2013\u2014\u2026"
                "\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff")
# (A comma ends it when another link follows: "https://a.kz/menu,https://a.kz/price".)
_PATH = rf"(?:[/?#][^{_NOT_IN_PATH},]*(?:,(?!(?:https?|ftp)://|www\.)[^{_NOT_IN_PATH},]*)*)?"
# A bare host may also follow markdown italics ("__shop.kz__") or a scheme missing its colon ("http//shop.kz").
_HOST_AFTER = r"(?<=(?<!\w)__)|(?<=http//)|(?<=https//)"
_URL = re.compile(
    rf"(?P<url>(?:https?|ftp)://(?P<h1>{_HOST}|\d{{1,3}}(?:\.\d{{1,3}}){{3}})(?::\d{{2,5}})?{_PATH}"
    rf"|(?:(?<![\w.@/-])|{_HOST_AFTER})(?P<h2>{_HOST})(?P<rest>(?::\d{{2,5}})?{_PATH}))")
_EMAIL = re.compile(rf"(?<![\w.+-])(?P<local>[a-z0-9][a-z0-9._%+-]{{0,63}})@(?P<host>{_HOST})(?![\w-])")
_ONION = re.compile(r"(?<![a-z2-7])(?P<addr>[a-z2-7]{56})\.onion(?![\w-])")
_TRAILING = ".,;:!?)]}»\"'…"
_NUMERIC_HOST = re.compile(r"[\d.]+")  # an IP address (or a number) where a host name would be
# Cheap test for anything host-like: a dot between a letter or digit and a letter (starts on the dot).
_HOSTISH = re.compile(r"\.(?<=[a-z0-9\u0400-\u04ff-]\.)[a-z\u0400-\u04ff]")
# Suffixes that are also common file extensions: a bare "readme.md" or "setup.py" is a file, not a site.
_FILE_LIKE = frozenset("md py sh rs pl zip mov exe js ts cs ps sc so ai io pdf doc txt csv jpg png gif mp3 mp4 avi "
                       "rar apk bat dat log ini cfg xml json html htm php asp jsp".split())
_WORDISH_SUFFIXES = frozenset("me to in at it is by do no so be am us my".split())
_TELEGRAM_HOSTS = frozenset(["t.me", "telegram.me", "telegram.dog"])  # handles, taken by telegram.py
# Platforms that host everyone's pages: a link to a shop's page on them is kept as a URL, but their
# registered domain is not the shop's and must never reach a blocklist.
# Block explorers: a link to one shows a wallet (proof of payment, "our reserves"); the wallet is the
# indicator, the explorer is nobody's shop and must never reach a blocklist.
EXPLORER_DOMAINS = frozenset("""
    tronscan.org tronscan.io etherscan.io bscscan.com polygonscan.com blockchair.com blockchain.com
    blockstream.info mempool.space btc.com blockcypher.com oklink.com solscan.io xmrchain.net
    litecoinspace.org bitinfocharts.com tokenview.io trongrid.io
""".split())
PLATFORM_DOMAINS = frozenset("""
    telegram.org wa.me whatsapp.com instagram.com facebook.com fb.com vk.com ok.ru tiktok.com youtube.com
    youtu.be twitter.com x.com threads.net snapchat.com discord.gg discord.com signal.me signal.org
    reddit.com linkedin.com pinterest.com google.com goo.gl forms.gle
    bit.ly tinyurl.com cutt.ly clck.ru olx.kz krisha.kz kolesa.kz kaspi.kz 2gis.kz 2gis.ru yandex.kz
    yandex.ru mail.ru gmail.com github.com wikipedia.org apple.com
""".split()) | EXPLORER_DOMAINS


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str | None:
    """The registered domain (eTLD+1) of a host name, or None when it has no public suffix."""
    r = _TLD(host.rstrip("."))
    if not r.suffix or not r.domain:
        return None
    return f"{r.domain}.{r.suffix}".lower()


onion_v3_ok = codecs.onion_v3_ok  # shared with the simulator, which makes valid ones


def _bare_host_ok(written: str, domain: str) -> bool:
    """Whether a host written without a scheme, "www." or path reads as a site rather than prose."""
    labels = written.split(".")
    tail = labels[-1]
    if any(c.isdigit() for c in tail) and not tail.lower().startswith("xn--"):
        return False  # "v1.2b"; a punycode TLD (xn--p1ai) has digits
    if domain.split(".", 1)[0].isdigit():
        return False  # "1.kz 2.ru 3.com": a numbered list (conservative: "24.kz" is lost too)
    if tail[:1].isupper():
        if not tail.isupper():
            return False  # "the end.World", "Новости.Рф": a missing space after a full stop
        # All capitals: "SNOW-KZ.TOP" is a site, "ASP.NET" a product name; 2-letter country codes pass
        if len(tail) > 2 and not written.isupper():
            return False
        if len(tail) > 2 and len(labels[-2]) < 4 and not any(c.isdigit() or c == "-" for c in labels[-2]):
            return False
    return True


def rest_of(url: str, host: str) -> str:
    """What follows the host in a URL ("/shop_kz"), which is what makes a platform link an indicator."""
    i = url.lower().find(host)
    return url[i + len(host):].strip("/") if i >= 0 else ""


def _strip_trailing(s: str) -> str:
    while s and s[-1] in _TRAILING:
        if s[-1] == ")" and s.count("(") >= s.count(")"):
            break  # wiki-style URLs keep their closing bracket
        s = s[:-1]
    return s


def _at_tokens(low: str, rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """`rx.finditer(low)` for a pattern whose matches contain an "@" and no whitespace: run only over the
    whitespace-free stretches around each "@" (the pattern begins with a look-behind, so over the whole
    text the engine would try it at every position; most posts have an @handle and no e-mail)."""
    n = len(low)
    done = 0
    p = low.find("@")
    while p >= 0:
        s = max(low.rfind(" ", done, p), low.rfind("\n", done, p), low.rfind("\t", done, p)) + 1
        e = min((i for i in (low.find(" ", p), low.find("\n", p), low.find("\t", p)) if i >= 0), default=n)
        yield from rx.finditer(low, max(s, done), e)
        done = e
        p = low.find("@", e)


class Emails(Extractor):
    kind = "email"
    gate = hints.AT

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _at_tokens(scan.lower, _EMAIL):
            host = _strip_trailing(m.group("host"))
            if registered_domain(host) is None or not scan.free(m.start(), m.end()):
                continue
            value = f"{m.group('local')}@{host}"
            yield Indicator("email", value, identifiers.email(value), None, m.start(), m.start() + len(value),
                            {"domain": host})


class Onions(Extractor):
    """Bare onion v3 addresses (onion URLs are taken by `Urls`, which validates them the same way)."""

    kind = "onion"
    gate = hints.ONION

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in _ONION.finditer(scan.lower):
            addr = m.group("addr")
            host = addr + ".onion"
            if not scan.free(m.start(), m.end()):
                continue
            if onion_v3_ok(addr):
                yield Indicator("onion", host, identifiers.domain(host), None, m.start(), m.end(), {"version": 3})


class Urls(Extractor):
    """URLs with a scheme, bare host names with a path or "www.", and bare registered domains."""

    kind = "url"
    gate = hints.DOT

    @staticmethod
    def _candidates(low: str) -> Iterator[re.Match[str]]:
        if "://" in low:  # links with a scheme (also to IP addresses): one pass over the text
            yield from _URL.finditer(low)
            return
        # Otherwise start only where a host name could begin, found from its dots: the full pattern
        # begins with a look-behind, so running it at every position would cost a pass per character.
        done = 0
        for hit in _HOSTISH.finditer(low):
            if hit.start() < done:
                continue
            i = hit.start()
            while i > 0 and (low[i - 1].isalnum() or low[i - 1] in ".-"):
                i -= 1
            m = _URL.match(low, i)
            if m is not None:
                done = m.end()
                yield m

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        for m in self._candidates(scan.lower):
            start = m.start()
            if m.group("h1") is not None:
                host = m.group("h1")
                url = _strip_trailing(scan.text[start:m.end()])
                explicit = True
            else:
                host = _strip_trailing(m.group("h2"))
                rest = m.group("rest") or ""
                url = _strip_trailing(scan.text[start:start + len(m.group("h2")) + len(rest)])
                explicit = host.startswith("www.") or bool(rest.strip(_TRAILING))
            end = start + len(url)
            if not scan.free(start, end):
                continue
            host = host.rstrip(".")
            if _NUMERIC_HOST.fullmatch(host):
                if m.group("h1") is not None:  # an IP address URL: keep the URL, there is no domain
                    yield Indicator("url", url, "url:" + url, None, start, end, {"host": host})
                continue
            if host.endswith(".onion"):
                addr = host.rsplit(".", 2)[-2]
                if not onion_v3_ok(addr):
                    continue
                domain = addr + ".onion"
                if explicit:
                    yield Indicator("url", url, "url:" + url, None, start, end, {"host": host, "onion": True})
                yield Indicator("onion", domain, identifiers.domain(domain), None, start, end, {"version": 3})
                continue
            domain = registered_domain(host)
            if domain is None:
                continue
            suffix = domain.rsplit(".", 1)[-1]
            if not explicit and (suffix in _FILE_LIKE or (suffix in _WORDISH_SUFFIXES and "." not in host[:-3])):
                continue  # "photo.jpg", "setup.py", "go.to" written as words
            if (m.group("h1") is None and not host.startswith("www.")
                    and not _bare_host_ok(scan.text[start:start + len(host)], domain)):
                continue  # written without a scheme: prose ("the end.World") or a product ("ASP.NET/C#")
            if domain in _TELEGRAM_HOSTS:
                continue
            if domain in PLATFORM_DOMAINS:
                if explicit and rest_of(url, host):
                    yield Indicator("url", url, "url:" + url, None, start, end, {"host": host, "platform": True})
                    yield from addresses_in_url(url, start)
                continue
            if explicit:
                yield Indicator("url", url, "url:" + url, None, start, end, {"host": host})
                yield from addresses_in_url(url, start)
            yield Indicator("domain", domain, identifiers.domain(domain), None, start, end, {"host": host})


# "shop[.]kz", "shop(.)kz", "shop[dot]kz", "shop (точка) kz", "shop dot kz", "shop . kz", "hxxps://shop[.]kz":
# a site written so that it is not a link. Bracketed dots are unambiguous; a bare " . ", "dot" or "точка"
# between words is read as one only before a common shop suffix and after a Latin name.
_BRACKET_DOT = r"\s*(?:\[\.\]|\(\.\)|\{\.\}|\[(?:dot|точка)\]|\((?:dot|точка)\))\s*"
_WORD_DOT = r"\s+(?:dot|точка)\s+|\s\.\s"
_DEFANGED = re.compile(
    rf"(?:hxxps?://|(?<![\w.@/-]))(?P<host>(?:{_LABEL}(?:{_BRACKET_DOT}|{_WORD_DOT}|\.))+{_LABEL})(?![\w-])")
_DEFANG_SEP = re.compile(rf"{_BRACKET_DOT}|{_WORD_DOT}")
# Where a broken dot is; every branch starts on a fairly rare character, so the engine skips ahead in C.
_DEFANG_FIND = re.compile(r"[\[({](?:\.|dot|точка)[\])}]|\.(?<=\s\.)(?=\s)|dot(?<=\sdot)(?=\s)"
                          r"|точка(?<=\sточка)(?=\s)")
_NAME_BEFORE = re.compile(r"(?:hxxps?://)?[a-z0-9\u0400-\u04ff.-]+$")
_SITE_WORD_BEFORE = re.compile(r"(?:сайт\w*|site|website|адрес\w*|address|зеркал\w*|mirror|домен\w*|domain|"
                               r"ссылк\w*|link|url|заход\w*|переход\w*|visit|go to)\W{0,4}$")
_NAME_LIKE = re.compile(r"[\d-]")
_SPACED_SUFFIXES = frozenset("kz ru com net org shop top xyz site online store info biz pro club su uz kg "
                             "onion".split())


class Defanged(Extractor):
    """Sites written with a broken dot: the registered domain (or onion), never a URL (it is not a link)."""

    kind = "domain"
    gate = hints.DEFANG

    @staticmethod
    def _candidates(low: str) -> Iterator[re.Match[str]]:
        # Start only where a broken dot is (the full pattern at every position would cost a pass per
        # character): back from it over the name, then match forwards.
        done = 0
        for hit in _DEFANG_FIND.finditer(low):
            hs = hit.start()
            if hs < done:
                continue
            lo = max(0, hs - 80)
            head = low[lo:hs].rstrip()
            word = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t")) + 1
            name = _NAME_BEFORE.search(head, word)
            m = _DEFANGED.match(low, lo + (name.start() if name else len(head)))
            if m is not None and m.end() > hs:
                done = m.end()
                yield m

    def extract(self, scan: Scan) -> Iterator[Indicator]:
        low = scan.lower
        for m in self._candidates(low):
            written = m.group("host")
            seps = _DEFANG_SEP.findall(written)
            if not seps:
                continue  # a plain host: Urls has read it
            host = _DEFANG_SEP.sub(".", written)
            start, end = m.span()
            if not scan.free(start, end):
                continue
            suffix = host.rsplit(".", 1)[-1]
            if any("[" not in sep and "(" not in sep and "{" not in sep for sep in seps):
                # spoken or spaced dots: a Latin name and a common suffix, in lower case or capitals, and a
                # name that is not a word ("zakladka24", "snow-market") or a word for a site before it
                # ("the dot com bubble", "about dot com" are prose)
                if suffix not in _SPACED_SUFFIXES or not host.isascii():
                    continue
                name = host[:-len(suffix) - 1]
                if not _NAME_LIKE.search(name) and not _SITE_WORD_BEFORE.search(low, max(0, start - 24), start):
                    continue
                tail = scan.text[m.end("host") - len(suffix):m.end("host")]
                if not (tail.islower() or tail.isupper()):
                    continue
            if suffix == "onion":
                addr = host.rsplit(".", 2)[-2]
                if onion_v3_ok(addr):
                    onion = addr + ".onion"
                    yield Indicator("onion", onion, identifiers.domain(onion), None, start, end,
                                    {"version": 3, "defanged": True})
                continue
            domain = registered_domain(host)
            if domain is None or domain in _TELEGRAM_HOSTS or domain in PLATFORM_DOMAINS:
                continue
            if suffix in _FILE_LIKE or domain.split(".", 1)[0].isdigit():
                continue
            yield Indicator("domain", domain, identifiers.domain(domain), None, start, end,
                            {"host": host, "defanged": True})
