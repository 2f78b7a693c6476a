"""Benchmark the compiled text kernels of `scan` against the code they replace, in the same run.

    .venv/bin/python benchmarks/bench_textcore.py [--posts FILE.jsonl] [--repeat 7]

- n-gram hashes of a batch of 4,000 normalised posts: `_textcore.hash_ngrams` vs `ngrams.hash_batch_numpy`;
- the lexicon trie over each normalised post: `_textcore.trie_spans` vs the trie's regular expression;
- the scans of normalisation (runs outside ASCII and Cyrillic, letters split by separators, words mixing
  digits or scripts, stretched letters) and the bundled price regexes: `_textcore` vs the regular expressions;
- features and probabilities of batches of 4,000: `linear_scores` on the features' parts vs the design matrix
  and scikit-learn's `predict_proba` (hashing included on both sides);
- validating fresh +7 phone numbers (each seen once): `phones._plus7`, which asks phonenumbers once per
  6-digit prefix, vs `identifiers.phone` (phonenumbers) per number.

Posts are the --posts file's (e.g. the scan benchmark's input), else the repo's training posts. CPU time per
post, best of --repeat runs (this machine's speed drifts by 30 % and more between runs); both sides of each
pair alternate, so a drift hits both. Every pair is first checked to give the same result.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _texts(posts: Path | None, limit: int) -> list[str]:
    files = [posts] if posts else sorted((ROOT / "src/narcotrace/online/training").glob("*.jsonl"))
    out: list[str] = []
    for f in files:
        for line in open(f, encoding="utf-8"):
            rec = json.loads(line)
            if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                out.append(rec["text"])
            if len(out) >= limit:
                return out
    return out


def _pair(name: str, a, b, n: int, repeat: int) -> None:
    best = {"kernel": float("inf"), "reference": float("inf")}
    for _ in range(repeat):
        for label, fn in (("kernel", a), ("reference", b)):
            t = time.process_time()
            fn()
            best[label] = min(best[label], time.process_time() - t)
    k, r = best["kernel"] / n * 1e6, best["reference"] / n * 1e6
    print(f"{name:44} kernel {k:7.2f} µs   reference {r:7.2f} µs   {r / k:5.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=Path, help="JSONL posts (default: the training posts)")
    ap.add_argument("--limit", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    import numpy as np

    from narcotrace import identifiers
    from narcotrace.online import ngrams
    from narcotrace.online.indicators import phones
    from narcotrace.online.lexicon import Lexicon
    from narcotrace.online.normalize import normalize
    from narcotrace.textcore import KERNELS

    if KERNELS is None:
        raise SystemExit("narcotrace._textcore is not built (or NARCOTRACE_PURE_PYTHON is set): run `make setup`")
    texts = _texts(args.posts, args.limit)
    norms = [normalize(t).text for t in texts]
    print(f"{len(norms):,} posts, {sum(map(len, norms)) / len(norms):.0f} characters on average")

    batches = [norms[i:i + 4000] for i in range(0, len(norms), 4000)]
    a, b = ngrams._hash_batch_c(batches[0], 2**19, 2**18, (2, 5), (1, 2)), ngrams.hash_batch_numpy(batches[0], 2**19, 2**18)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("char_col", "char_tok", "word_col", "tok_end"))
    _pair("n-gram hashes (batches of 4,000)",
          lambda: [ngrams._hash_batch_c(x, 2**19, 2**18, (2, 5), (1, 2)) for x in batches],
          lambda: [ngrams.hash_batch_numpy(x, 2**19, 2**18) for x in batches], len(norms), args.repeat)

    lex = Lexicon.load()
    rx, trie = lex._rx, lex._ctrie
    assert all(KERNELS.trie_spans(trie, t) == [v for m in rx.finditer(t) for v in m.span()] for t in norms)
    _pair("lexicon trie", lambda: [KERNELS.trie_spans(trie, t) for t in norms],
          lambda: [[m.span() for m in rx.finditer(t)] for t in norms], len(norms), args.repeat)

    from narcotrace.online import normalize as nm

    lows = [t.lower() for t in texts]
    price = next(r for r, term in lex._regex_rxs if term is None)
    names = list(price.groupindex)
    scans = [
        ("normalisation: exotic runs", KERNELS.exotic_runs,
         lambda t: [v for m in nm._EXOTIC.finditer(t) for v in m.span()], texts),
        ("normalisation: split letters", KERNELS.sep_pairs,
         lambda t: [v for m in nm._SEP_PAIR.finditer(t) for v in (m.start(), m.end(), len(m.group(1)))], lows),
        ("normalisation: mixed words", KERNELS.mixed_words,
         lambda t: [v for span in nm._mixed_words(t) for v in span], lows),
        ("normalisation: stretched letters", KERNELS.triple_runs,
         lambda t: [v for span in nm._triple_runs(t) for v in span], lows),
        ("bundled price regexes", KERNELS.price_spans,
         lambda t: [v for m in price.finditer(t) for v in (m.start(), m.end(), names.index(m.lastgroup))], norms),
    ]
    for name, kernel, reference, inputs in scans:
        assert all(kernel(t) == reference(t) for t in inputs), name
        _pair(name, lambda k=kernel, i=inputs: [k(t) for t in i], lambda r=reference, i=inputs: [r(t) for t in i],
              len(inputs), args.repeat)

    from narcotrace.online.classify import analyse_batch, featurise, load_model

    model = load_model(None)
    analysed = [analyse_batch(texts[i:i + 4000], lex) for i in range(0, len(texts), 4000)]
    for batch in analysed[:1]:
        assert np.array_equal(model.model_.predict_proba(featurise(batch, model.space).X),
                              model.predict_proba_features(featurise(batch, model.space, matrix=False)))
    _pair("features + model probabilities (batches)",
          lambda: [model.predict_proba_features(featurise(b, model.space, matrix=False)) for b in analysed],
          lambda: [model.model_.predict_proba(featurise(b, model.space).X) for b in analysed], len(texts),
          args.repeat)

    rnd = random.Random(5)
    operators = ["700", "701", "702", "705", "706", "707", "708", "747", "771", "775", "776", "777", "778"]
    numbers = [rnd.choice(operators) + f"{rnd.randrange(10**7):07d}" for _ in range(40_000)]
    assert all((phones._plus7(n) or ("",))[0] == (identifiers.phone("+7" + n) or "phone:")[6:] for n in numbers[:500])
    phones._PLUS7_VALID.clear()
    cost, seen = [], []
    for part in (numbers[:20_000], numbers[20_000:]):
        t = time.process_time()
        for n in part:
            phones._plus7(n)
        cost.append((time.process_time() - t) / len(part) * 1e6)
        seen.append(len(phones._PLUS7_VALID))
    t = time.process_time()
    for n in numbers[:20_000]:
        identifiers.phone("+7" + n)
    r = (time.process_time() - t) / 20_000 * 1e6
    print(f"fresh +7 numbers of 13 operators, each once: phonenumbers {r:.2f} µs; by prefix, the first 20,000 "
          f"{cost[0]:.2f} µs ({seen[0]:,} prefixes by then), the next 20,000 {cost[1]:.2f} µs ({seen[1]:,})")


if __name__ == "__main__":
    main()
