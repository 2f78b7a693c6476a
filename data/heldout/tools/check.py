"""Check data/heldout/posts.jsonl: schema, allowed values, unique ids/texts, exact indicator annotation.

The indicator annotation must be exactly right: every annotated identifier validates and occurs in the text,
and nothing valid in the text is left unannotated (cross-checked with phonenumbers' matcher, Luhn, base58check, bech32, EIP-55).

Usage: .venv/bin/python data/heldout/tools/check.py [posts.jsonl]   (exit 1 on any problem)
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import re
import sys
from pathlib import Path

import phonenumbers
from schwifty import IBAN

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "src"))
from narcotrace.codecs import b58check_decode, eth_address_ok, luhn_ok, segwit_decode  # noqa: E402

KINDS = {
    "sale": {"sale_ad"},
    "recruitment": {"recruitment"},
    "none": {"seizure_news", "police_news", "court_news", "prevention", "rehab", "pharmacy", "medicine_talk", "salt",
             "hairdryer", "stamps", "pine_cones", "crystals", "jewellery", "legal_courier_job", "legal_job",
             "crypto_chat", "lyrics", "marketplace", "food", "city_chat", "general_news", "sport", "humour",
             "harm_reduction_discussion", "other"},
}
LANGS = {"ru", "kk", "en", "mixed"}
CATS = {"mephedrone", "alpha_pvp", "amphetamine", "cocaine", "cannabis", "opioids", "psychedelics", "mdma",
        "synthetic_cannabinoids", "prescription_pills"}
OBFS = {"homoglyph", "digit_sub", "separators", "stretched", "zero_width", "fullwidth", "math_letters", "translit",
        "emoji"}
IND_KEYS = ["telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto"]
HANDLE = re.compile(r"^[a-z][a-z0-9_]{4,31}$")
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
ZW = re.compile("(?<=\\w)[\u200b\u200c\u200d\u2060\ufeff]+(?=\\w)")  # ZWJ inside emoji sequences is not evasion


def onion_ok(host: str) -> bool:
    label = host.removesuffix(".onion")
    if len(label) != 56 or not re.fullmatch("[a-z2-7]{56}", label):
        return False
    raw = base64.b32decode(label.upper())
    pub, check, ver = raw[:32], raw[32:34], raw[34:]
    return ver == b"\x03" and hashlib.sha3_256(b".onion checksum" + pub + ver).digest()[:2] == check


def crypto_ok(chain: str, a: str) -> bool:
    if chain == "tron":
        p = b58check_decode(a)
        return a.startswith("T") and p is not None and len(p) == 21 and p[0] == 0x41
    if chain == "btc":
        if a.startswith("bc1"):
            return segwit_decode("bc", a) is not None and a == a.lower()
        p = b58check_decode(a)
        return p is not None and len(p) == 21 and p[0] in (0x00, 0x05)
    if chain == "ltc":
        if a.startswith("ltc1"):
            return segwit_decode("ltc", a) is not None
        p = b58check_decode(a)
        return p is not None and len(p) == 21 and p[0] in (0x30, 0x32, 0x05)
    if chain == "eth":
        return eth_address_ok(a)
    if chain == "xmr":
        return bool(re.fullmatch(r"[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}", a))
    return False


def digits_in(text: str) -> str:
    return re.sub(r"\D", "", text)


def check_post(p: dict, errs: list[str]) -> None:
    pid = p.get("id", "?")

    def err(msg: str) -> None:
        errs.append(f"{pid}: {msg}")

    need = {"id", "text", "label", "kind", "lang", "obfuscated", "obfuscations", "categories", "indicators"}
    if set(p) != need:
        err(f"fields {sorted(set(p) ^ need)}")
        return
    t = p["text"]
    if p["label"] not in KINDS:
        err(f"label {p['label']}")
    elif p["kind"] not in KINDS[p["label"]]:
        err(f"kind {p['kind']} for label {p['label']}")
    if p["lang"] not in LANGS:
        err(f"lang {p['lang']}")
    if set(p["obfuscations"]) - OBFS or len(set(p["obfuscations"])) != len(p["obfuscations"]):
        err(f"obfuscations {p['obfuscations']}")
    if p["obfuscated"] != bool(p["obfuscations"]):
        err("obfuscated flag disagrees with obfuscations")
    if bool(ZW.search(t)) != ("zero_width" in p["obfuscations"]):
        err("zero-width characters inside words and the zero_width tag disagree")
    seen = {"fullwidth": any("\uff01" <= ch <= "\uff5e" for ch in t),
            "math_letters": any(0x1D400 <= ord(ch) <= 0x1D7FF for ch in t),
            "emoji": any(ord(ch) >= 0x2600 and not 0x1D400 <= ord(ch) <= 0x1D7FF and ch.isprintable()
                         and not ch.isalnum() for ch in t)}
    for tag, present in seen.items():
        if tag in p["obfuscations"] and not present:
            err(f"tagged {tag} but the text has none")
        if present and tag != "emoji" and tag not in p["obfuscations"]:
            err(f"{tag} characters but no {tag} tag")
    if set(p["categories"]) - CATS:
        err(f"categories {p['categories']}")
    if p["label"] != "none" and p["label"] == "sale" and not p["categories"]:
        err("sale post without categories")
    if p["label"] == "none" and p["categories"]:
        err("none post with categories")
    ind = p["indicators"]
    if list(ind) != IND_KEYS:
        err(f"indicator keys {list(ind)}")
        return
    for k in IND_KEYS:
        vals = [json.dumps(v, sort_keys=True) for v in ind[k]]
        if len(set(vals)) != len(vals):
            err(f"duplicate {k}")
    low = t.lower()
    for h in ind["telegram"]:
        if not HANDLE.match(h):
            err(f"bad handle {h}")
        if not re.search(r"(@|t\.me/|telegram\.me/)" + re.escape(h) + r"(?![A-Za-z0-9_])", low):
            err(f"handle {h} not in text")
    for u in ind["urls"]:
        if u not in t or u[-1] in ".,;:!?)»\"'":
            err(f"url {u!r} not in text or has trailing punctuation")
    for d in ind["domains"]:
        if d.endswith(".onion"):
            if not onion_ok(d):
                err(f"bad onion {d}")
        if d not in low:
            err(f"domain {d} not in text")
    for e in ind["emails"]:
        if not EMAIL.match(e) or e not in low:
            err(f"email {e}")
    flat = digits_in(t)
    for ph in ind["phones"]:
        pn = phonenumbers.parse(ph, "KZ")
        if not phonenumbers.is_valid_number(pn) or phonenumbers.format_number(
                pn, phonenumbers.PhoneNumberFormat.E164) != ph:
            err(f"bad phone {ph}")
        if str(pn.national_number) not in flat:
            err(f"phone {ph} not in text")
    for c in ind["cards"]:
        if not (c.isdigit() and 13 <= len(c) <= 19 and luhn_ok(c)) or c not in flat:
            err(f"card {c}")
    for ib in ind["ibans"]:
        try:
            IBAN(ib)
        except Exception as e:  # noqa: BLE001 — schwifty raises several types
            err(f"iban {ib}: {e}")
        if ib != ib.upper() or " " in ib or ib not in re.sub(r"\s", "", t):
            err(f"iban {ib} not in text / not normalised")
    for item in ind["crypto"]:
        if set(item) != {"chain", "address"} or not crypto_ok(item["chain"], item["address"]):
            err(f"crypto {item}")
        elif item["address"] not in t and item["address"] not in low:
            err(f"crypto {item['address']} not in text")

    # Nothing valid may be left unannotated.
    for m in re.finditer(r"(?<![\w.@])@([A-Za-z][A-Za-z0-9_]{4,31})(?![\w@.])", t):
        if m.group(1).lower() not in ind["telegram"]:
            err(f"unannotated handle @{m.group(1)}")
    for m in re.finditer(r"(?:https?://|www\.)[^\s<>\"«»]+", t, re.I):
        u = m.group(0).rstrip(".,;:!?)")
        if u not in ind["urls"] and not re.match(r"(https?://)?(www\.)?(t|telegram)\.me/", u, re.I):
            err(f"unannotated url {u}")
    for m in phonenumbers.PhoneNumberMatcher(t, "KZ"):
        e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in ind["phones"]:
            err(f"unannotated phone {m.raw_string!r}")
    # Card-like digit runs (12–19 digits, spaces/dashes allowed): a Luhn-valid one must be annotated.
    for m in re.finditer(r"(?<!\d)\d(?:[ \-\u00a0]?\d){11,18}(?!\d)", t):
        d = digits_in(m.group(0))
        if luhn_ok(d) and d not in ind["cards"]:
            err(f"unannotated Luhn-valid number {m.group(0)!r}")
    annotated = {i["address"] for i in ind["crypto"]}
    for m in re.finditer(r"(?<![A-Za-z0-9])[13LMT][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])", t):
        if b58check_decode(m.group(0)) is not None and m.group(0) not in annotated:
            err(f"unannotated base58check address {m.group(0)}")
    for m in re.finditer(r"(?<![A-Za-z0-9])(bc1|ltc1)[a-z0-9]{8,87}(?![A-Za-z0-9])", t, re.I):
        a = m.group(0).lower()
        if segwit_decode(m.group(1).lower()[:-1], a) is not None and a not in annotated:
            err(f"unannotated segwit address {a}")
    for m in re.finditer(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])", t):
        if eth_address_ok(m.group(0)) and m.group(0) not in annotated:
            err(f"unannotated eth address {m.group(0)}")
    for m in re.finditer(r"\bKZ\d{2}[0-9A-Z ]{16,22}", t):
        cand = re.sub(r"\s", "", m.group(0))[:20]
        try:
            IBAN(cand)
        except Exception:  # noqa: BLE001
            continue
        if cand not in ind["ibans"]:
            err(f"unannotated IBAN {cand}")


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "posts.jsonl"
    errs: list[str] = []
    ids, texts = set(), set()
    posts = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            p = json.loads(line)
        except json.JSONDecodeError as e:
            errs.append(f"line {n}: {e}")
            continue
        if p.get("id") in ids:
            errs.append(f"line {n}: duplicate id {p.get('id')}")
        norm = re.sub(r"\s+", " ", p.get("text", "")).strip().lower()
        if norm in texts:
            errs.append(f"line {n}: duplicate text")
        ids.add(p.get("id"))
        texts.add(norm)
        check_post(p, errs)
        posts.append(p)
    for e in errs:
        print(e)
    c = collections.Counter
    print(f"{len(posts)} posts, {len(errs)} problems")
    print("label", dict(c(p["label"] for p in posts)))
    print("lang", dict(c(p["lang"] for p in posts)))
    print("obfuscated", dict(c(p["obfuscated"] for p in posts)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
