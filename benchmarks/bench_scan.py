"""Benchmark `scan`: posts/s end to end (read, normalise, classify, extract, write) and peak memory,
against a naive baseline (a Python loop of one regex per lexicon term plus the indicator regexes).

    .venv/bin/python benchmarks/bench_scan.py --posts 200000          # the issue's target is 1,000,000
    .venv/bin/python benchmarks/bench_scan.py --posts 1000000 --workers 2

Posts are the simulator's (--worlds worlds generated from --seed on, about 3,300 distinct posts each, repeated
with fresh ids up to --posts), so their length and mix are those of short Telegram posts, and texts repeat as
reposted adverts do in real streams. Each scan process caches results by text (`scan.RESULT_CACHE_BYTES`), so
a repeat costs a look-up: for the analysis's own speed, run with --distinct (every post gets its own hashtag,
so no two texts are equal) or --result-cache 0; --distinct-share 0.5 tags half the posts (spread evenly),
for a stream in which about half the posts repeat an earlier text. Prints wall time, CPU time, posts/s, peak
memory of the scan process plus its workers, and the baseline's posts/s on a sample.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def _tag(i: int) -> str:
    """A hashtag of lower-case letters, different for every i ("aaaab", "aaaac", ...)."""
    out, i = "", i + 26**4
    while i:
        i, r = divmod(i, 26)
        out += chr(97 + r)
    return out


def make_posts(path: Path, n: int, seed: int, tmp: Path, worlds: int = 4, distinct_share: float = 0.0) -> None:
    """n posts drawn in turn from `worlds` simulated worlds (seeds seed, seed+1, ...), repeated with fresh ids;
    a `distinct_share` of them (spread evenly) end with their own hashtag, so their texts occur once."""
    texts: list[str] = []
    for k in range(worlds):
        world = tmp / f"world{k}"
        subprocess.run([sys.executable, "-m", "narcotrace.cli", "simulate", "--out", str(world), "--seed",
                        str(seed + k), "--people", "20000", "--days", "30"], check=True, capture_output=True)
        texts.extend(json.loads(line)["text"] for line in open(world / "posts.jsonl", encoding="utf-8"))
    texts = list(dict.fromkeys(texts))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            tagged = distinct_share >= 1.0 or (i * 0.6180339887498949) % 1.0 < distinct_share
            text = texts[i % len(texts)] + (f" #{_tag(i)}" if tagged else "")
            f.write(json.dumps({"id": f"b{i:08d}", "text": text}, ensure_ascii=False) + "\n")


_INPUT_STATS = """
import json, sys
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
print(json.dumps([sum(map(len, texts)) / len(texts), len(set(texts)), len(texts)]))
"""


class Monitor(threading.Thread):
    """Samples resident memory of this process and its descendants (the workers are the forkserver's
    children, so the OS does not add their CPU time to ours) and the CPU time of each descendant.

    The sum of RSS counts the pages that the workers share with the forkserver (the libraries and the model it
    preloaded) once per process; the sum of PSS (proportional set size: a shared page split between the
    processes sharing it) is the memory really in use. PSS costs a walk of the page tables (~4 ms a process),
    so it is sampled every second, RSS every 50 ms."""

    PSS_EVERY = 20  # RSS samples per PSS sample

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.peak_main = 0
        self.peak_workers = 0
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self.stop = False

    def run(self) -> None:
        me = psutil.Process()
        n = 0
        while not self.stop:
            main = me.memory_info().rss
            rss = 0
            children = me.children(recursive=True)
            for c in children:
                try:
                    rss += c.memory_info().rss
                    t = c.cpu_times()
                    self.cpu[c.pid] = t.user + t.system
                except psutil.Error:
                    pass
            self.peak = max(self.peak, main + rss)
            self.peak_main = max(self.peak_main, main)
            self.peak_workers = max(self.peak_workers, rss)
            if n % self.PSS_EVERY == 0:
                pss = 0
                for p in [me, *children]:
                    try:
                        pss += p.memory_full_info().pss
                    except psutil.Error:
                        pass
                self.peak_pss = max(self.peak_pss, pss)
            n += 1
            time.sleep(0.05)


class Timeline:
    """When the first and the last result of a scan arrived and how long each write to the workspace took,
    from wrappers around scan's `_run` and `_Writer.flush` (the scan's code is not changed). The start and the
    end of a run are where the cores can sit idle: workers loading the model, and the last write, which nothing
    overlaps (it took 9-10 s at 1 M posts until session 10)."""

    def __init__(self, scan) -> None:
        self.scan = scan
        self.t0 = 0.0
        self.first = self.last = None
        self.writes: list[float] = []

    def __enter__(self) -> Timeline:
        scan, run, flush = self.scan, self.scan._run, self.scan._Writer.flush
        self._saved = (run, flush)
        self.t0 = time.perf_counter()

        def timed_run(*a, **k):
            for item in run(*a, **k):
                if self.first is None:
                    self.first = time.perf_counter() - self.t0
                yield item
            self.last = time.perf_counter() - self.t0

        def timed_flush(writer, *a, **k):
            t = time.perf_counter()
            try:
                return flush(writer, *a, **k)
            finally:
                self.writes.append(time.perf_counter() - t)

        scan._run, scan._Writer.flush = timed_run, timed_flush
        return self

    def __exit__(self, *exc) -> None:
        self.scan._run, self.scan._Writer.flush = self._saved
        self.end = time.perf_counter() - self.t0

    def line(self) -> str:
        if self.first is None:
            return "  timeline: no results"
        writes = [w for w in self.writes if w > 0.001]  # a call with nothing buffered writes nothing
        plural = "" if len(writes) == 1 else "s"
        return (f"  timeline: first result after {self.first:.1f} s, last after {self.last:.1f} s, done at "
                f"{self.end:.1f} s; {len(writes)} write{plural}, {sum(writes):.1f} s in all, "
                f"the last {writes[-1] if writes else 0:.2f} s")


def naive_baseline(posts: Path, sample: int) -> float:
    """posts/s of one regex per lexicon term plus indicator regexes, looped in Python."""
    from narcotrace.online.lexicon import Lexicon

    lex = Lexicon.load()
    patterns = []
    for t in lex.terms:
        if t.regex is not None:
            patterns.append(re.compile(t.regex))
        else:
            words = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in t.term.split()]
            patterns.append(re.compile(r"\b" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE))
    patterns += [re.compile(p) for p in (
        r"@[A-Za-z][A-Za-z0-9_]{4,31}", r"(?:t\.me|telegram\.me)/[A-Za-z0-9_]{5,32}", r"https?://\S+",
        r"[\w.+-]+@[\w-]+\.[\w.]+", r"(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}",
        r"\b(?:\d{4}[ -]?){3}\d{4}\b", r"\bKZ\d{2}[A-Z0-9]{16}\b", r"\b(?:bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}\b",
        r"\b0x[0-9a-fA-F]{40}\b", r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b", r"\b[a-z2-7]{56}\.onion\b")]
    texts = []
    with open(posts, encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) >= sample:
                break
    t0 = time.perf_counter()
    hits = 0
    for text in texts:
        low = text.lower()
        for p in patterns:
            hits += len(p.findall(low))
    return len(texts) / (time.perf_counter() - t0)


def stages(posts: Path, sample: int) -> None:
    """CPU time per post of each stage, in one process (time.process_time, best of 2)."""
    import orjson

    from narcotrace.online import scan
    from narcotrace.online.classify import analyse_batch, featurise
    from narcotrace.online.indicators import as_contract, extract
    from narcotrace.online.lexicon import Lexicon
    from narcotrace.online.normalize import normalize
    from narcotrace.online.sources import read_posts

    lines = []
    with open(posts, encoding="utf-8") as f:
        for line in f:
            lines.append(line)
            if len(lines) >= sample:
                break
    part = posts.with_name("sample.jsonl")
    part.write_text("".join(lines), encoding="utf-8")
    scan._init(None, [], None)
    model, lex = scan._STATE["model"], scan._STATE["lexicon"]

    def t(label, fn):
        best = float("inf")
        for _ in range(2):
            c0 = time.process_time()
            r = fn()
            best = min(best, time.process_time() - c0)
        print(f"  {label:<44} {best / sample * 1e6:7.1f} µs/post")
        return r

    print(f"CPU per post by stage ({sample:,} posts, one process):")
    raw = t("read (sources: JSONL reader, RawPost)", lambda: list(read_posts([part])))
    texts = [p.text for p in raw]
    norms = t("normalize", lambda: [normalize(x) for x in texts])
    t("lexicon match", lambda: [lex.match(n) for n in norms])
    t("indicators extract", lambda: [extract(x) for x in texts])
    analyses = analyse_batch(texts, lex)
    feats = t("features (n-gram hashing, lexicon, dense)", lambda: featurise(analyses, model.space))
    proba = t("calibrated prediction", lambda: model.predict_proba_features(feats))
    t("explanation", lambda: model.explain(analyses, feats, proba))
    res = model.classify(analyses)
    t("output line (as_contract + orjson)", lambda: [orjson.dumps({"i": as_contract(a.indicators),
                                                                    "e": r.explanation}) for a, r in zip(analyses, res)])
    result = scan._process(scan._payload(raw))
    import tempfile

    from narcotrace.workspace import Workspace

    with tempfile.TemporaryDirectory() as d:
        ws = Workspace.open(Path(d) / "ws")
        rep = scan.ScanReport(scan.ReadReport())

        def store():
            w = scan._Writer(ws, "v", None, rep)
            w.add(raw, result)
            w.flush()

        t("store (Arrow -> DuckDB posts + indicators)", store)
        ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--input", type=Path, help="posts file to reuse (written here first if missing)")
    ap.add_argument("--worlds", type=int, default=4, help="simulated worlds the posts come from (more: fewer repeats)")
    ap.add_argument("--distinct", action="store_true", help="no two posts share a text (each gets a hashtag)")
    ap.add_argument("--distinct-share", type=float, default=0.0,
                    help="share of the posts that get their own hashtag, so that their texts occur once")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=None, help="posts per worker task (default: scan's)")
    ap.add_argument("--result-cache", type=float, default=None,
                    help="MiB of each process's cache of results by text (default: scan's; 0: no cache)")
    ap.add_argument("--baseline-sample", type=int, default=3000)
    ap.add_argument("--stages", type=int, default=10000, help="posts for the per-stage CPU breakdown (0: skip)")
    args = ap.parse_args()

    from narcotrace.online.scan import scan_paths
    from narcotrace.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        posts = args.input or tmp / "posts.jsonl"
        if not posts.is_file():
            make_posts(posts, args.posts, args.seed, tmp, args.worlds, 1.0 if args.distinct else args.distinct_share)
        # counted in a child process: a million texts read here would stay in this process's heap and count
        # towards the scan's peak memory
        avg, distinct, args.posts = json.loads(subprocess.run(
            [sys.executable, "-c", _INPUT_STATS, str(posts)], check=True, capture_output=True, text=True).stdout)
        size = posts.stat().st_size
        print(f"input: {args.posts:,} posts ({distinct:,} distinct texts, the rest repeated with fresh ids), "
              f"{size / 2**20:.1f} MiB, {avg:.0f} characters per post on average")
        if distinct < args.posts and args.result_cache != 0:
            print(f"  note: each text comes {args.posts / distinct:,.1f} times on average and scan's result cache "
                  "serves the repeats; --distinct (or --result-cache 0) measures the analysis itself")
        mon = Monitor()
        mon.start()
        ws = Workspace.open(tmp / "ws")
        me = psutil.Process()
        cpu0 = me.cpu_times()
        t0 = time.perf_counter()
        from narcotrace.online.scan import BATCH_SIZE

        args.batch_size = args.batch_size or BATCH_SIZE
        from narcotrace.online import scan as scan_module

        with Timeline(scan_module) as timeline:
            report = scan_paths(ws, [posts], out=tmp / "out.jsonl", workers=args.workers,
                                batch_size=args.batch_size, show_progress=False,
                                result_cache_bytes=None if args.result_cache is None else int(args.result_cache * 2**20))
        wall = time.perf_counter() - t0
        cpu1 = me.cpu_times()
        mon.stop = True
        mon.join()
        ws.close()
        main_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        child_cpu = sum(mon.cpu.values())
        rate = report.stored / wall
        print(f"scan: {report.stored:,} posts in {wall:.1f} s = {rate:,.0f} posts/s "
              f"(workers={args.workers}, batch={args.batch_size}); labels {dict(report.counts)}")
        print(f"  CPU: main process {main_cpu:.1f} s, workers {child_cpu:.1f} s "
              f"= {(main_cpu + child_cpu) / report.stored * 1e6:.0f} µs per post")
        print(f"  peak RSS (main + workers): {mon.peak / 2**20:,.0f} MiB (each alone at its peak: main "
              f"{mon.peak_main / 2**20:,.0f}, workers and forkserver {mon.peak_workers / 2**20:,.0f}); "
              f"peak PSS, sampled each second: {mon.peak_pss / 2**20:,.0f} MiB")
        print(timeline.line())
        n = report.stored
        bound = min(2 * n / (main_cpu + child_cpu), n / main_cpu,
                    args.workers * n / child_cpu if child_cpu else float("inf"))
        print(f"  extrapolated to 1,000,000 posts: {1_000_000 / rate:,.0f} s at this rate; on 2 otherwise idle "
              f"cores the measured CPU times allow at most {bound:,.0f} posts/s")
        if args.stages:
            stages(posts, args.stages)
        base = naive_baseline(posts, args.baseline_sample)
        print(f"naive baseline (one regex per lexicon term + indicator regexes, 1 process, "
              f"{args.baseline_sample:,} posts): {base:,.0f} posts/s; scan is {rate / base:,.1f}x faster")


if __name__ == "__main__":
    main()
