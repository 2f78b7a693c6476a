"""Validate hand-written labelled post files (training set and held-out set) and print their counts.

Usage: .venv/bin/python scripts/check_posts.py FILE.jsonl [FILE.jsonl ...] [--quiet]

Checks every line: valid JSON, required fields, allowed labels/kinds/langs/obfuscations/categories,
label and kind agree, ids unique across all files given, no duplicate texts (case and spacing ignored),
bank-card-like digit runs are Luhn-valid (so no test ever leans on a broken fake card), and the
obfuscation tags that can be seen in the characters really are there. Exits 1 on any problem.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from narcotrace.codecs import luhn_ok  # noqa: E402

LABELS = {"sale", "recruitment", "none"}
SALE_KINDS = {"sale_ad"}
RECRUITMENT_KINDS = {"recruitment"}
NONE_KINDS = {
    "seizure_news", "police_news", "court_news", "prevention", "rehab", "pharmacy", "medicine_talk",
    "salt", "hairdryer", "stamps", "pine_cones", "crystals", "jewellery", "legal_courier_job",
    "legal_job", "crypto_chat", "lyrics", "marketplace", "food", "city_chat", "general_news", "sport",
    "humour", "harm_reduction_discussion", "other",
}
LANGS = {"ru", "kk", "en", "mixed"}
OBFUSCATIONS = {
    "homoglyph", "digit_sub", "separators", "stretched", "zero_width", "fullwidth", "translit", "emoji",
}
CATEGORIES = {
    "mephedrone", "alpha_pvp", "amphetamine", "cocaine", "cannabis", "opioids", "psychedelics", "mdma",
    "synthetic_cannabinoids", "prescription_pills",
}
REQUIRED = ("id", "text", "label", "kind", "lang", "obfuscated", "obfuscations", "categories")

ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\ufeff")
# A 16-digit card written with optional single spaces or dashes between digit groups.
CARD_RE = re.compile(r"(?<![\d.])(?:\d[ -]?){15}\d(?![\d.])")


def _is_fancy(ch: str) -> bool:
    cp = ord(ch)
    return 0xFF01 <= cp <= 0xFF5E or 0x1D400 <= cp <= 0x1D7FF


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF or cp in (0x2744, 0x26A1)


def _mixed_script_word(text: str) -> bool:
    for word in re.findall(r"\w+", text):
        scripts = set()
        for ch in word:
            if ch.isalpha():
                name = unicodedata.name(ch, "")
                if name.startswith("LATIN"):
                    scripts.add("L")
                elif name.startswith("CYRILLIC"):
                    scripts.add("C")
        if len(scripts) == 2:
            return True
    return False


def _dedupe_key(text: str) -> str:
    return " ".join(text.lower().split())


def check(paths: list[Path]) -> tuple[list[str], list[dict]]:
    problems: list[str] = []
    rows: list[dict] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path}:{n}"
            if not line.strip():
                problems.append(f"{where}: empty line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            missing = [f for f in REQUIRED if f not in row]
            if missing:
                problems.append(f"{where}: missing {missing}")
                continue
            rid, text, label, kind = row["id"], row["text"], row["label"], row["kind"]
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: empty text")
                continue
            if rid in seen_ids:
                problems.append(f"{where}: id {rid} already used at {seen_ids[rid]}")
            seen_ids[rid] = where
            key = _dedupe_key(text)
            if key in seen_texts:
                problems.append(f"{where}: same text as {seen_texts[key]}")
            seen_texts[key] = where
            if label not in LABELS:
                problems.append(f"{where}: label {label!r}")
            allowed = {"sale": SALE_KINDS, "recruitment": RECRUITMENT_KINDS}.get(label, NONE_KINDS)
            if kind not in allowed:
                problems.append(f"{where}: kind {kind!r} does not fit label {label!r}")
            if row["lang"] not in LANGS:
                problems.append(f"{where}: lang {row['lang']!r}")
            obf = row["obfuscations"]
            if not isinstance(obf, list) or set(obf) - OBFUSCATIONS or len(set(obf)) != len(obf):
                problems.append(f"{where}: obfuscations {obf!r}")
                obf = []
            if row["obfuscated"] is not bool(obf):
                problems.append(f"{where}: obfuscated={row['obfuscated']} but obfuscations={obf}")
            cats = row["categories"]
            if not isinstance(cats, list) or set(cats) - CATEGORIES or len(set(cats)) != len(cats):
                problems.append(f"{where}: categories {cats!r}")
            elif label == "sale" and not cats:
                problems.append(f"{where}: a sale post names no drug category")
            if "zero_width" in obf and not ZERO_WIDTH & set(text):
                problems.append(f"{where}: tagged zero_width but has no zero-width character")
            if "fullwidth" in obf and not any(_is_fancy(c) for c in text):
                problems.append(f"{where}: tagged fullwidth but has no fullwidth/math letter")
            if "homoglyph" in obf and not _mixed_script_word(text):
                problems.append(f"{where}: tagged homoglyph but no word mixes Latin and Cyrillic")
            if "emoji" in obf and not any(_is_emoji(c) for c in text):
                problems.append(f"{where}: tagged emoji but has no emoji")
            for m in CARD_RE.finditer(text):
                digits = re.sub(r"\D", "", m.group())
                if not luhn_ok(digits):
                    problems.append(f"{where}: card-like number {m.group()!r} fails Luhn")
            rows.append(row)
    return problems, rows


def counts_table(rows: list[dict]) -> str:
    """Markdown tables of counts by label, lang, kind and obfuscation."""
    out = []
    for title, keyf in (
        ("label", lambda r: r["label"]),
        ("lang", lambda r: r["lang"]),
        ("label × lang", lambda r: f"{r['label']} / {r['lang']}"),
        ("kind", lambda r: r["kind"]),
        ("obfuscated (sale+recruitment)", lambda r: str(r["obfuscated"]) if r["label"] != "none" else None),
        ("obfuscated (none)", lambda r: str(r["obfuscated"]) if r["label"] == "none" else None),
        ("obfuscation technique", None),
        ("category (sale+recruitment)", None),
    ):
        if title == "obfuscation technique":
            c = Counter(t for r in rows for t in r["obfuscations"])
        elif title.startswith("category"):
            c = Counter(t for r in rows if r["label"] != "none" for t in r["categories"])
        else:
            c = Counter(k for r in rows if (k := keyf(r)) is not None)
        out.append(f"| {title} | posts |\n|---|---:|")
        out.extend(f"| {k} | {v} |" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")]
    if not paths:
        print(__doc__)
        return 2
    problems, rows = check(paths)
    for p in problems:
        print(p)
    if not quiet:
        print(f"{len(rows)} posts in {len(paths)} file(s)\n")
        print(counts_table(rows))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
