"""Print the held-out set's counts (by label, language, kind, obfuscation, indicator kind) as Markdown tables."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path


def table(title: str, counter: collections.Counter, order: list | None = None) -> str:
    keys = order or [k for k, _ in counter.most_common()]
    rows = "\n".join(f"| {k} | {counter[k]} |" for k in keys if counter[k])
    return f"| {title} | posts |\n|---|---:|\n{rows}\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "posts.jsonl"
    posts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    c = collections.Counter
    print(f"Total: {len(posts)} posts\n")
    print(table("label", c(p["label"] for p in posts), ["sale", "recruitment", "none"]))
    print(table("lang", c(p["lang"] for p in posts), ["ru", "kk", "en", "mixed"]))
    print(table("label × lang", c(f"{p['label']} / {p['lang']}" for p in posts),
                [f"{a} / {b}" for a in ("sale", "recruitment", "none") for b in ("ru", "kk", "en", "mixed")]))
    print(table("kind", c(p["kind"] for p in posts)))
    print(table("obfuscated (label)", c(f"{p['label']} / {p['obfuscated']}" for p in posts),
                [f"{a} / {b}" for a in ("sale", "recruitment", "none") for b in (True, False)]))
    print(table("obfuscation technique", c(o for p in posts for o in p["obfuscations"])))
    print(table("category (sale + recruitment)", c(x for p in posts for x in p["categories"])))
    ind = c()
    posts_with = c()
    for p in posts:
        for k, vals in p["indicators"].items():
            if k == "crypto":
                for v in vals:
                    ind[f"crypto:{v['chain']}"] += 1
            else:
                ind[k] += len(vals)
            posts_with[k] += bool(vals)
    print("| indicator | annotated | posts with |\n|---|---:|---:|")
    for k in ["telegram", "urls", "domains", "emails", "phones", "cards", "ibans"]:
        print(f"| {k} | {ind[k]} | {posts_with[k]} |")
    for ch in ["btc", "eth", "tron", "ltc", "xmr"]:
        print(f"| crypto ({ch}) | {ind['crypto:' + ch]} | |")
    print(f"| crypto (all) | {sum(v for k, v in ind.items() if k.startswith('crypto:'))} | {posts_with['crypto']} |")


if __name__ == "__main__":
    main()
