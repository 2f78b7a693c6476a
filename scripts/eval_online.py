"""Evaluate the shipped post classifier and the indicator extractor: every figure of docs/evaluation.md
("## Online: post classifier and indicators").

    .venv/bin/python scripts/eval_online.py                      # held-out set + a simulator world
    .venv/bin/python scripts/eval_online.py --sim-seed 2024 --sim-people 30000 --sim-days 20

The held-out set (data/heldout/posts.jsonl) is only read here, to score; it never enters training or
tuning (see data/heldout/README.md). The simulator world is generated with a seed never used in training
(training used --seed 101). The model's cross-validation figures come from its model card.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "data" / "heldout" / "posts.jsonl"
# Held-out sets by writers who saw neither the project's data nor its code (their README.md): labels,
# languages and obfuscation, no indicator annotations.
OTHER_WRITER = ROOT / "data" / "heldout" / "other_writer" / "posts.jsonl"
THIRD_WRITER = ROOT / "data" / "heldout" / "third_writer" / "posts.jsonl"
STRANGER_SETS = ((OTHER_WRITER, "Other writer's"), (THIRD_WRITER, "Third writers'"))
KINDS = ("telegram", "urls", "domains", "emails", "phones", "cards", "ibans", "crypto")


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def binary(rows: list[dict]) -> dict:
    tp = sum(1 for r in rows if r["label"] != "none" and r["pred"] != "none")
    fp = sum(1 for r in rows if r["label"] == "none" and r["pred"] != "none")
    fn = sum(1 for r in rows if r["label"] != "none" and r["pred"] == "none")
    p, rc, f = prf(tp, fp, fn)
    return {"n": len(rows), "precision": p, "recall": rc, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def classify_rows(posts: list[dict]) -> list[dict]:
    from narcotrace.online.classify import analyse_batch, load_model
    from narcotrace.online.indicators import as_contract
    from narcotrace.online.lexicon import Lexicon

    model = load_model()
    lex = Lexicon.load()
    out = []
    for i in range(0, len(posts), 1000):
        chunk = posts[i:i + 1000]
        analyses = analyse_batch([p["text"] for p in chunk], lex)
        for p, a, r in zip(chunk, analyses, model.classify(analyses, explain=False)):
            out.append({**p, "pred": r.label, "score": r.score, "pred_categories": r.categories,
                        "pred_indicators": as_contract(a.indicators)})
    return out


def fmt(x: float) -> str:
    return f"{x:.3f}"


def classifier_report(rows: list[dict], title: str, lines: list[str], by_kind: bool = True) -> dict:
    b = binary(rows)
    rec = [r for r in rows if r["label"] == "recruitment"]
    rec_recall = sum(1 for r in rec if r["pred"] == "recruitment") / len(rec) if rec else float("nan")
    rec_any = sum(1 for r in rec if r["pred"] != "none") / len(rec) if rec else float("nan")
    obf = [r for r in rows if r.get("obfuscated")]
    bo = binary(obf)
    lines.append(f"### {title}\n")
    lines.append("| metric | value | target |")
    lines.append("|---|---:|---:|")
    lines.append(f"| posts | {b['n']} | |")
    lines.append(f"| precision (sale or recruitment) | {fmt(b['precision'])} | ≥ 0.97 |")
    lines.append(f"| recall (sale or recruitment) | {fmt(b['recall'])} | |")
    lines.append(f"| F1 (sale or recruitment) | {fmt(b['f1'])} | ≥ 0.95 |")
    lines.append(f"| recruitment recall (labelled recruitment) | {fmt(rec_recall)} | ≥ 0.90 |")
    lines.append(f"| recruitment flagged at all (sale or recruitment) | {fmt(rec_any)} | |")
    lines.append(f"| F1 on obfuscated posts ({bo['n']}) | {fmt(bo['f1'])} | ≥ 0.90 |")
    lines.append("")
    # confusion matrix
    labels = ("sale", "recruitment", "none")
    cm = Counter((r["label"], r["pred"]) for r in rows)
    lines.append("Confusion matrix (rows: truth, columns: predicted)\n")
    lines.append("| | " + " | ".join(labels) + " |")
    lines.append("|---|" + "---:|" * len(labels))
    for t in labels:
        lines.append(f"| **{t}** | " + " | ".join(str(cm[(t, p)]) for p in labels) + " |")
    lines.append("")
    # per language
    lines.append("By language\n")
    lines.append("| lang | posts | precision | recall | F1 |")
    lines.append("|---|---:|---:|---:|---:|")
    for lang in sorted({r.get("lang") for r in rows if r.get("lang")}):
        bl = binary([r for r in rows if r.get("lang") == lang])
        lines.append(f"| {lang} | {bl['n']} | {fmt(bl['precision'])} | {fmt(bl['recall'])} | {fmt(bl['f1'])} |")
    lines.append("")
    # obfuscation techniques
    techniques = Counter(t for r in rows for t in (r.get("obfuscations") or []))
    if techniques:
        lines.append("By obfuscation technique (posts carrying it; F1 of sale-or-recruitment, false positives among negatives)\n")
        lines.append("| technique | posts | F1 | false positives / negatives |")
        lines.append("|---|---:|---:|---:|")
        for t, _ in techniques.most_common():
            sub = [r for r in rows if t in (r.get("obfuscations") or [])]
            bt = binary(sub)
            neg = [r for r in sub if r["label"] == "none"]
            lines.append(f"| {t} | {len(sub)} | {fmt(bt['f1'])} | {sum(r['pred'] != 'none' for r in neg)} / {len(neg)} |")
        lines.append("")
    if by_kind:
        lines.append("By kind (positives: recall; hard-negative kinds: false-positive rate)\n")
        lines.append("| kind | posts | recall / FPR |")
        lines.append("|---|---:|---:|")
        kinds = Counter(r.get("kind") for r in rows)
        for k, n in sorted(kinds.items(), key=lambda kv: (kv[0] not in ("sale_ad", "recruitment"), -kv[1], kv[0])):
            sub = [r for r in rows if r.get("kind") == k]
            if k in ("sale_ad", "recruitment"):
                v = sum(r["pred"] != "none" for r in sub) / n
                lines.append(f"| {k} | {n} | recall {fmt(v)} |")
            else:
                v = sum(r["pred"] != "none" for r in sub) / n
                lines.append(f"| {k} | {n} | FPR {fmt(v)} |")
        lines.append("")
    return {"binary": b, "recruitment_recall": rec_recall, "obfuscated": bo}


def indicator_report(rows: list[dict], lines: list[str]) -> None:
    counts = {k: [0, 0, 0] for k in KINDS}  # tp, fp, fn
    for r in rows:
        want, got = r["indicators"], r["pred_indicators"]
        for k in KINDS:
            norm = (lambda x: (x["chain"], x["address"])) if k == "crypto" else (lambda x: x)
            w = Counter(norm(x) for x in want.get(k, []))
            g = Counter(norm(x) for x in got.get(k, []))
            tp = sum((w & g).values())
            counts[k][0] += tp
            counts[k][1] += sum(g.values()) - tp
            counts[k][2] += sum(w.values()) - tp
    lines.append("### Indicators on the held-out set (exact match of the `scan --out` lists against the annotations)\n")
    lines.append("| kind | annotated | extracted | correct | precision | recall |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    tot = [0, 0, 0]
    for k in KINDS:
        tp, fp, fn = counts[k]
        p, rc, _ = prf(tp, fp, fn)
        lines.append(f"| {k} | {tp + fn} | {tp + fp} | {tp} | {fmt(p)} | {fmt(rc)} |")
        tot = [a + b for a, b in zip(tot, counts[k])]
    p, rc, _ = prf(*tot)
    lines.append(f"| **all** | {tot[0] + tot[2]} | {tot[0] + tot[1]} | {tot[0]} | {fmt(p)} | {fmt(rc)} |")
    lines.append("")


def overlap_check(heldout: list[dict]) -> tuple[int, int]:
    """Held-out ids and texts found in the training posts (should be 0, 0)."""
    from narcotrace.online.train import handwritten_posts

    train = handwritten_posts()
    ids = {p.id for p in train}
    texts = {" ".join(p.text.lower().split()) for p in train}
    return (sum(1 for h in heldout if h["id"] in ids),
            sum(1 for h in heldout if " ".join(h["text"].lower().split()) in texts))


def sim_rows(seed: int, people: int, days: int, tmp: Path) -> list[dict]:
    import pyarrow.parquet as pq

    world = tmp / f"world{seed}"
    subprocess.run([sys.executable, "-m", "narcotrace.cli", "simulate", "--out", str(world), "--seed", str(seed),
                    "--people", str(people), "--days", str(days)], check=True, capture_output=True)
    truth = {r["post_id"]: r for r in pq.read_table(world / "truth" / "posts.parquet").to_pylist()}
    posts = []
    for line in open(world / "posts.jsonl", encoding="utf-8"):
        p = json.loads(line)
        t = truth[p["id"]]
        posts.append({"id": p["id"], "text": p["text"], "label": t["label"], "kind": t["kind"], "lang": t["lang"],
                      "obfuscated": bool(t["obfuscated"]), "obfuscations": list(t["obfuscations"] or [])})
    return classify_rows(posts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim-seed", type=int, default=2024)
    ap.add_argument("--sim-people", type=int, default=30000)
    ap.add_argument("--sim-days", type=int, default=20)
    args = ap.parse_args()

    from narcotrace.online.classify import load_model, shipped_model_path

    model = load_model()
    card = model.card
    lines: list[str] = []
    lines.append(f"Model `{shipped_model_path().name}` (version {model.version}, threshold {model.threshold}, "
                 f"C={card.get('C')}); lexicon {card.get('lexicon_version')}, extractor {card.get('extractor_version')}.\n")
    cvm = card.get("cv_metrics_handwritten", {})
    if cvm:
        lines.append("### Cross-validation on the training posts (hand-written, 5 grouped folds; from the model card)\n")
        lines.append("| precision | recall | F1 | recruitment recall | F1 obfuscated |")
        lines.append("|---:|---:|---:|---:|---:|")
        lines.append(f"| {fmt(cvm['precision'])} | {fmt(cvm['recall'])} | {fmt(cvm['f1'])} | "
                     f"{fmt(cvm['recruitment_recall'])} | {fmt(cvm.get('f1_obfuscated', float('nan')))} |\n")
        w2 = cvm.get("second_writer")
        if w2:
            lines.append(f"Second writer's training posts ({w2['n']}, ids tr2-*) scored by a model trained without them, "
                         f"at the CV threshold: precision {fmt(w2['precision'])}, recall {fmt(w2['recall'])}, "
                         f"F1 {fmt(w2['f1'])}, recruitment recall {fmt(w2['recruitment_recall'])}.\n")
    heldout = [json.loads(line) for line in open(HELDOUT, encoding="utf-8") if line.strip()]
    ids, texts = overlap_check(heldout)
    lines.append(f"Held-out overlap with the training posts: {ids} ids, {texts} texts.\n")
    rows = classify_rows(heldout)
    classifier_report(rows, f"Held-out set ({len(rows)} hand-written posts, data/heldout/)", lines)
    indicator_report(rows, lines)
    for path, whose in STRANGER_SETS:
        if not path.exists():
            continue
        other = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        ids, texts = overlap_check(other)
        lines.append(f"{whose} held-out overlap with the training posts: {ids} ids, {texts} texts.\n")
        classifier_report(classify_rows(other), f"{whose} held-out set ({len(other)} posts, "
                                                f"{path.parent.relative_to(ROOT)}/)", lines, by_kind=False)
    with tempfile.TemporaryDirectory() as tmp:
        srows = sim_rows(args.sim_seed, args.sim_people, args.sim_days, Path(tmp))
    classifier_report(srows, f"Simulator world --seed {args.sim_seed} --people {args.sim_people} --days "
                             f"{args.sim_days} ({len(srows)} posts; training used seed 101)", lines, by_kind=False)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
