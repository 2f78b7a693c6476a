"""Build data/heldout/posts.jsonl from the hand-written sources in tools/src/*.txt, reproducibly.

Usage: .venv/bin/python data/heldout/tools/build.py [--verify]   (--verify: only check the committed file)

Source format: each post starts with a header line
    ### <label> <lang> <kind> [obf=a,b] [cat=a,b]
followed by its text (may span lines). In the text:
  [[...]]       a literal identifier: @handle, t.me/handle, e-mail, URL or bare domain, or tel:<phone as
                written> (brackets and "tel:" dropped, annotated);
  {card[:sp|dash|solid|nbsp][:BIN]}, {phone[:FORMAT]}, {iban[:sp]}, {tron}, {btc}, {btc3}, {bc1q}, {bc1p},
  {eth}, {ethlow}, {ltc}, {ltcseg}, {xmr}, {onion}, {onion:http://%s/path}
                synthetic valid identifiers (generated here, annotated);
  {badcard[:fmt]}, {badphone}, {badiban}, {badtron}, {badbtc}, {badeth}, {track}
                look-alikes that must NOT be annotated;
  {hg:word} {zw:word} {fw:word} {math:word} {sep:word}
                obfuscation transforms (homoglyph, zero-width, fullwidth, mathematical letters, separators),
                recorded in the post's `obfuscations` automatically.
Values are drawn from a random generator seeded by the sha256 of the post's source block, so editing one
post never changes another.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import phonenumbers
import tldextract
from schwifty import IBAN

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "src"))
from narcotrace.codecs import (  # noqa: E402
    B58_ALPHABET,
    b58check_decode,
    b58check_encode,
    eip55,
    eth_address_ok,
    luhn_check_digit,
    luhn_ok,
    segwit_encode,
)

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "posts.jsonl"
_TLD = tldextract.TLDExtract(suffix_list_urls=())

ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
CYR2LAT = dict(zip("аеорсухіјКМНТВАЕОРСХ", "aeopcyxijKMHTBAEOPCX"))
LAT2CYR = {v: k for k, v in CYR2LAT.items()}
MATH_LOWER = [0x1D41A, 0x1D5EE, 0x1D68A, 0x1D552, 0x1D4EA]  # bold, sans bold, monospace, double-struck, bold script
MATH_UPPER = [0x1D400, 0x1D5D4, 0x1D670, None, 0x1D4D0]
SEPARATORS = [".", "-", "_", "*", " ", "·", "|"]
BINS = ["440043", "440563", "400303", "539545", "516949", "417408", "404932", "535470", "427837", "458048",
        "220220", "510621", "446375", "552204", "400918"]
MOBILE = ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]


# ---- obfuscation transforms --------------------------------------------------------------------

def homoglyph(word: str, rng: random.Random) -> str:
    table = CYR2LAT if re.search("[а-яА-ЯёЁіәғқңөұүһ]", word) else LAT2CYR
    idx = [i for i, c in enumerate(word) if c in table]
    if not idx:
        raise ValueError(f"no homoglyph candidates in {word!r}")
    pick = set(rng.sample(idx, max(1, len(idx) // 2)))
    return "".join(table[c] if i in pick else c for i, c in enumerate(word))


def zero_width(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        raise ValueError(word)
    cuts = sorted(rng.sample(range(1, len(word)), min(len(word) - 1, rng.randint(1, 3))))
    out, last = [], 0
    for c in cuts:
        out += [word[last:c], rng.choice(ZW)]
        last = c
    out.append(word[last:])
    return "".join(out)


def fullwidth(word: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in word)


def math_letters(word: str, rng: random.Random) -> str:
    k = rng.randrange(len(MATH_LOWER))
    out = []
    for c in word:
        if "a" <= c <= "z":
            out.append(chr(MATH_LOWER[k] + ord(c) - 97))
        elif "A" <= c <= "Z" and MATH_UPPER[k] is not None:
            out.append(chr(MATH_UPPER[k] + ord(c) - 65))
        elif "A" <= c <= "Z":
            out.append(chr(MATH_LOWER[k] + ord(c.lower()) - 97))
        else:
            out.append(c)
    return "".join(out)


def separators(word: str, rng: random.Random) -> str:
    return rng.choice(SEPARATORS).join(word)


TRANSFORMS = {"hg": ("homoglyph", homoglyph), "zw": ("zero_width", zero_width), "fw": ("fullwidth", fullwidth),
              "math": ("math_letters", math_letters), "sep": ("separators", separators)}


# ---- synthetic identifiers ---------------------------------------------------------------------

def fmt_card(d: str, style: str) -> str:
    if style == "solid":
        return d
    if style == "dash":
        return "-".join(d[i:i + 4] for i in range(0, 16, 4))
    if style == "nbsp":
        return "\u00a0".join(d[i:i + 4] for i in range(0, 16, 4))
    return " ".join(d[i:i + 4] for i in range(0, 16, 4))


def new_card(rng: random.Random, bin_: str | None) -> str:
    part = (bin_ or rng.choice(BINS)) + "".join(rng.choice("0123456789") for _ in range(15 - len(bin_ or "123456")))
    return part + luhn_check_digit(part)


def bad_card(rng: random.Random) -> str:
    while True:
        d = "".join(rng.choice("0123456789") for _ in range(16))
        if d[0] != "0" and not luhn_ok(d):
            return d


def new_phone(rng: random.Random, fmt: str) -> tuple[str, str]:
    while True:
        op = rng.choice(MOBILE)
        rest = "".join(rng.choice("0123456789") for _ in range(7))
        e164 = "+7" + op + rest
        if phonenumbers.is_valid_number(phonenumbers.parse(e164, "KZ")):
            break
    a, b, c = rest[:3], rest[3:5], rest[5:]
    forms = {
        "intl": f"+7 {op} {a} {b} {c}", "e164": e164, "dash": f"+7-{op}-{a}-{b}-{c}",
        "paren8": f"8({op}){rest}", "8": f"8{op}{rest}", "8sp": f"8 {op} {a} {b}{c}",
        "8dash": f"8-{op}-{a}-{b}-{c}", "paren": f"+7 ({op}) {a}-{b}-{c}", "7": f"7{op}{rest}",
        "8paren_sp": f"8 ({op}) {a} {b} {c}",
    }
    return forms[fmt], e164


def bad_phone(rng: random.Random) -> str:
    while True:
        d = rng.choice("1256") + "".join(rng.choice("0123456789") for _ in range(9))
        if not phonenumbers.is_valid_number(phonenumbers.parse(d, "KZ")) and not any(
                m for m in phonenumbers.PhoneNumberMatcher(d, "KZ")):
            return d


def new_iban(rng: random.Random) -> str:
    bank = rng.choice(["722", "601", "965", "914", "551", "856", "926", "998"])
    acct = "".join(rng.choice("0123456789") for _ in range(13))
    return str(IBAN.generate("KZ", bank_code=bank, account_code=acct).compact)


def bad_iban(rng: random.Random) -> str:
    good = new_iban(rng)
    check = int(good[2:4])
    return good[:2] + f"{(check + rng.randint(1, 9)) % 100:02d}" + good[4:]


def new_tron(rng: random.Random) -> str:
    return b58check_encode(bytes([0x41]) + rng.randbytes(20))


def new_btc(rng: random.Random, version: int) -> str:
    return b58check_encode(bytes([version]) + rng.randbytes(20))


def broken_b58(addr: str, rng: random.Random) -> str:
    while True:
        i = rng.randrange(3, len(addr))
        c = rng.choice([x for x in B58_ALPHABET if x != addr[i]])
        bad = addr[:i] + c + addr[i + 1:]
        if b58check_decode(bad) is None:
            return bad


def new_eth(rng: random.Random) -> str:
    return eip55(rng.randbytes(20).hex())


def bad_eth(rng: random.Random) -> str:
    while True:
        good = new_eth(rng)
        letters = [i for i, c in enumerate(good) if i > 1 and c.isalpha()]
        i = rng.choice(letters)
        bad = good[:i] + good[i].swapcase() + good[i + 1:]
        if not eth_address_ok(bad):
            return bad


def new_xmr(rng: random.Random) -> str:
    return "4" + rng.choice("0123456789AB") + "".join(rng.choice(B58_ALPHABET) for _ in range(93))


def new_onion(rng: random.Random) -> str:
    pub = rng.randbytes(32)
    check = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return base64.b32encode(pub + check + b"\x03").decode().lower() + ".onion"


def track_number(rng: random.Random) -> str:
    """A parcel tracking number that looks like a card but fails Luhn."""
    return rng.choice(["KZ", "RB", "LP", "CN"]) + "".join(rng.choice("0123456789") for _ in range(9)) + "KZ"


# ---- parsing -----------------------------------------------------------------------------------

TOKEN = re.compile(r"\[\[(.+?)\]\]|\{(\w+)(?::([^{}]*))?\}")
HEADER = re.compile(r"^### (\S+) (\S+) (\S+)(.*)$")
TG_LINK = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/([A-Za-z][A-Za-z0-9_]{3,31})", re.I)


def empty_indicators() -> dict:
    return {k: [] for k in ("telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto")}


def add(ind: dict, kind: str, value) -> None:
    if value not in ind[kind]:
        ind[kind].append(value)


def literal(raw: str, ind: dict) -> str:
    if raw.startswith("tel:"):
        shown = raw[4:]
        pn = phonenumbers.parse(shown, "KZ")
        if not phonenumbers.is_valid_number(pn):
            raise ValueError(f"invalid phone {shown!r}")
        add(ind, "phones", phonenumbers.format_number(pn, phonenumbers.PhoneNumberFormat.E164))
        return shown
    if raw.startswith("@"):
        add(ind, "telegram", raw[1:].lower())
    elif m := TG_LINK.match(raw):
        add(ind, "telegram", m.group(1).lower())
    elif "@" in raw:
        add(ind, "emails", raw.lower())
    else:
        add(ind, "urls", raw)
        host = re.sub(r"^[a-z]+://", "", raw, flags=re.I).split("/")[0].split(":")[0].lower()
        if host.endswith(".onion"):
            add(ind, "domains", ".".join(host.split(".")[-2:]))
        else:
            reg = _TLD(host).top_domain_under_public_suffix
            if not reg:
                raise ValueError(f"no registered domain in {raw!r}")
            add(ind, "domains", reg)
    return raw


def render(body: str, rng: random.Random) -> tuple[str, dict, list[str]]:
    ind = empty_indicators()
    obf: list[str] = []

    def sub(m: re.Match) -> str:
        if m.group(1) is not None:
            return literal(m.group(1), ind)
        name, arg = m.group(2), m.group(3) or ""
        args = arg.split(":") if arg else []
        if name in TRANSFORMS:
            label, fn = TRANSFORMS[name]
            if label not in obf:
                obf.append(label)
            out = fn(arg, rng)
            if out == arg:
                raise ValueError(f"{label} leaves {arg!r} unchanged (fullwidth/math letters exist only for Latin)")
            return out
        if name == "card":
            style = args[0] if args else "sp"
            d = new_card(rng, args[1] if len(args) > 1 else None)
            add(ind, "cards", d)
            return fmt_card(d, style)
        if name == "badcard":
            return fmt_card(bad_card(rng), args[0] if args else "sp")
        if name == "phone":
            shown, e164 = new_phone(rng, args[0] if args else "intl")
            add(ind, "phones", e164)
            return shown
        if name == "badphone":
            return bad_phone(rng)
        if name == "iban":
            v = new_iban(rng)
            add(ind, "ibans", v)
            return " ".join(v[i:i + 4] for i in range(0, len(v), 4)) if args[:1] == ["sp"] else v
        if name == "badiban":
            return bad_iban(rng)
        if name == "track":
            return track_number(rng)
        chains = {"tron": ("tron", lambda: new_tron(rng)), "btc": ("btc", lambda: new_btc(rng, 0x00)),
                  "btc3": ("btc", lambda: new_btc(rng, 0x05)),
                  "bc1q": ("btc", lambda: segwit_encode("bc", 0, rng.randbytes(20))),
                  "bc1p": ("btc", lambda: segwit_encode("bc", 1, rng.randbytes(32))),
                  "eth": ("eth", lambda: new_eth(rng)), "ethlow": ("eth", lambda: new_eth(rng).lower()),
                  "ltc": ("ltc", lambda: new_btc(rng, 0x30)),
                  "ltcseg": ("ltc", lambda: segwit_encode("ltc", 0, rng.randbytes(20))),
                  "xmr": ("xmr", lambda: new_xmr(rng))}
        if name in chains:
            chain, make = chains[name]
            addr = make()
            item = {"chain": chain, "address": addr.lower() if addr.lower().startswith(("bc1", "ltc1")) else addr}
            add(ind, "crypto", item)
            return addr
        if name == "badtron":
            return broken_b58(new_tron(rng), rng)
        if name == "badbtc":
            return broken_b58(new_btc(rng, 0x00), rng)
        if name == "badeth":
            return bad_eth(rng)
        if name == "onion":
            host = new_onion(rng)
            shown = arg.replace("%s", host) if "%s" in arg else host
            return literal(shown, ind)
        raise ValueError(f"unknown placeholder {m.group(0)!r}")

    text = TOKEN.sub(sub, body)
    return text, ind, obf


def parse_sources(paths: list[Path]):
    for path in paths:
        block: list[str] = []
        header = None
        lineno = 0
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("### "):
                if header:
                    yield path, header, block
                header, block = (line, lineno), []
            elif header:
                block.append(line)
            elif line.strip() and not line.startswith("#"):
                raise ValueError(f"{path}:{lineno}: text before the first header")
        if header:
            yield path, header, block


def build() -> list[dict]:
    posts = []
    for path, (header, lineno), lines in parse_sources(sorted((HERE / "src").glob("*.txt"))):
        m = HEADER.match(header)
        if not m:
            raise ValueError(f"{path}:{lineno}: bad header {header!r}")
        label, lang, kind, rest = m.groups()
        opts = dict(kv.split("=", 1) for kv in rest.split())
        body = "\n".join(lines).strip("\n")
        seed = hashlib.sha256((header + "\n" + body).encode()).digest()
        rng = random.Random(seed)
        try:
            text, ind, auto_obf = render(body, rng)
        except (ValueError, KeyError) as e:
            raise ValueError(f"{path}:{lineno}: {e}") from e
        declared = [o for o in opts.get("obf", "").split(",") if o]
        obf = auto_obf + [o for o in declared if o not in auto_obf]
        cats = [c for c in opts.get("cat", "").split(",") if c]
        posts.append({"id": f"ho-{len(posts) + 1:04d}", "text": text, "label": label, "kind": kind, "lang": lang,
                      "obfuscated": bool(obf), "obfuscations": obf, "categories": cats, "indicators": ind,
                      "_src": f"{path.name}:{lineno}"})
    return posts


def main() -> None:
    posts = build()
    lines = []
    for p in posts:
        p.pop("_src")
        lines.append(json.dumps(p, ensure_ascii=False) + "\n")
    if "--verify" in sys.argv[1:]:
        # Proves the committed file is exactly what the sources produce.
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == "".join(lines)
        print(f"{OUT} {'matches' if same else 'DIFFERS FROM'} the sources ({len(posts)} posts)")
        sys.exit(0 if same else 1)
    OUT.write_text("".join(lines), encoding="utf-8")
    print(f"wrote {len(posts)} posts to {OUT}")


if __name__ == "__main__":
    main()
