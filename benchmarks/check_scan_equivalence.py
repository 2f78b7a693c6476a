"""Check that a speed change left the scan's output unchanged: save a reference, change the code, compare.

    .venv/bin/python benchmarks/check_scan_equivalence.py save /tmp/ref.pkl [--posts FILE.jsonl]
    ... change normalize / lexicon / indicators / features ...
    .venv/bin/python benchmarks/check_scan_equivalence.py compare /tmp/ref.pkl [--posts FILE.jsonl]

The texts are the posts of --posts (e.g. the scan benchmark's input, first 20,000) plus every post of the
training data and the test fixtures (the held-out and dev sets included: they are only run, never scored,
so this is no look at the held-out labels). For each batch of 4,000 it keeps the design matrix, the lexicon
matches, the indicators, and each post's score, label, categories and explanation; `compare` prints the first
differences and exits 1 if there are any. Used for every speed change of session 3 (22,719 texts).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def texts(posts: Path | None, limit: int) -> list[str]:
    out: list[str] = []
    files = [posts] if posts else []
    files += sorted((ROOT / "src/narcotrace/online/training").glob("*.jsonl"))
    files += sorted((ROOT / "tests/fixtures/online").glob("*.jsonl"))
    for i, f in enumerate(files):
        n = 0
        for line in open(f, encoding="utf-8", errors="replace"):
            try:
                t = json.loads(line).get("text")
            except (ValueError, AttributeError):
                continue
            if isinstance(t, str) and t:
                out.append(t)
                n += 1
                if i == 0 and posts and n >= limit:
                    break
    return out


def snapshot(all_texts: list[str]) -> list[tuple]:
    from narcotrace.online.classify import analyse_batch, featurise, load_model
    from narcotrace.online.lexicon import Lexicon

    model, lex = load_model(), Lexicon.load()
    out = []
    for i in range(0, len(all_texts), 4000):
        analyses = analyse_batch(all_texts[i:i + 4000], lex)
        X = featurise(analyses, model.space).X.tocsr()
        X.sum_duplicates()
        results = model.classify(analyses)
        out.append((X, [(a.norm.text, sorted(a.norm.flags), list(a.matches), [(d.kind, d.value, d.start, d.end)
                                                                               for d in a.indicators])
                        for a in analyses],
                    [(r.score, r.label, r.categories, r.explanation) for r in results]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("save", "compare"))
    ap.add_argument("reference", type=Path)
    ap.add_argument("--posts", type=Path, help="extra posts (JSONL with a text field)")
    ap.add_argument("--limit", type=int, default=20_000, help="posts taken from --posts")
    args = ap.parse_args()
    all_texts = texts(args.posts, args.limit)
    snap = snapshot(all_texts)
    if args.action == "save":
        args.reference.write_bytes(pickle.dumps((all_texts, snap)))
        print(f"saved {len(all_texts):,} texts to {args.reference}")
        return 0
    ref_texts, ref = pickle.loads(args.reference.read_bytes())
    if ref_texts != all_texts:
        print("the texts differ from the reference's: use the same --posts and --limit")
        return 2
    bad = 0
    for b, ((X, an, res), (X0, an0, res0)) in enumerate(zip(snap, ref)):
        if X.shape != X0.shape or abs(X - X0).max() > 1e-9:
            bad += 1
            print(f"batch {b}: design matrix differs")
        for k, (a, a0, r, r0) in enumerate(zip(an, an0, res, res0)):
            if a != a0 or abs(r[0] - r0[0]) > 1e-9 or r[1:] != r0[1:]:
                bad += 1
                if bad <= 5:
                    print(f"text {b * 4000 + k}: {all_texts[b * 4000 + k][:80]!r}\n  now {a} {r}\n  was {a0} {r0}")
    print(f"{len(all_texts):,} texts compared: {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
