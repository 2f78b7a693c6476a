"""`narcotrace scan`: read posts, classify them, extract their indicators, store them and write --out JSONL.

Streaming in batches: the reader (main process) yields posts; each batch is normalised, matched,
classified and its indicators extracted (in worker processes when the input is larger than a batch,
since that part is CPU-bound); the main process writes the batch to the workspace with one Arrow insert
per table and appends the --out lines. Re-scanning a post (same post id) replaces its row and its
indicators. The accounting follows the readers': read = stored + quarantined, per file.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from narcotrace.online.classify import PostClassifier, analyse, load_model
from narcotrace.online.indicators import EXTRACTOR_VERSION, as_contract
from narcotrace.online.lexicon import Lexicon
from narcotrace.online.sources import Quarantined, RawPost, ReadReport, read_posts

BATCH_SIZE = 4000
BATCH_CHARS = 4_000_000  # pages are long: a batch also ends at this many characters of text

_KK = re.compile(r"[әғқңөұүһі]")
_CYR = re.compile(r"[а-яё]")
_LAT = re.compile(r"[a-z]")


def guess_lang(text: str) -> str:
    """ru | kk | en | mixed, from the letters of the normalised text (Kazakh letters mark kk)."""
    cyr = len(_CYR.findall(text))
    lat = len(_LAT.findall(text))
    kk = len(_KK.findall(text))
    letters = cyr + lat + kk
    if not letters:
        return "ru"
    if cyr + kk and lat and min(cyr + kk, lat) / letters > 0.2:
        return "mixed"
    if lat > cyr + kk:
        return "en"
    return "kk" if kk else "ru"


@dataclass
class ScanReport:
    """What a scan did: the readers' accounting, posts stored by label, indicators, and the model used."""

    read: ReadReport
    stored: int = 0
    counts: Counter = field(default_factory=Counter)  # posts by label
    indicators: Counter = field(default_factory=Counter)  # indicators by kind
    quarantined: int = 0
    model_version: str = ""
    out: Path | None = None

    def render(self) -> list[str]:
        lines = self.read.lines()
        lines.append(f"stored {self.stored:,} posts: " + ", ".join(
            f"{self.counts.get(k, 0):,} {k}" for k in ("sale", "recruitment", "none")))
        if self.indicators:
            lines.append("indicators: " + ", ".join(f"{n:,} {k}" for k, n in sorted(self.indicators.items())))
        lines.append(f"read {self.read.read:,} = {self.stored:,} stored + {self.quarantined:,} quarantined"
                     f" (model {self.model_version})")
        if self.out:
            lines.append(f"wrote {self.out}")
        return lines


# ---- the CPU-bound part (runs in workers for big inputs) ---------------------------------------------

_STATE: dict = {}


def _init(model_path: str | None, lexicons: Sequence[str], threshold: float | None) -> None:
    _STATE["model"] = load_model(model_path)
    _STATE["lexicon"] = Lexicon.load([Path(p) for p in lexicons])
    _STATE["threshold"] = threshold


def _process(batch: list[tuple]) -> dict:
    """Classify and extract one batch of (post_id, source, text, entities, links) into column lists."""
    model: PostClassifier = _STATE["model"]
    lexicon: Lexicon = _STATE["lexicon"]
    analyses = [analyse(text, lexicon, entities or None, links or None) for _, _, text, entities, links in batch]
    results = model.classify(analyses, threshold=_STATE["threshold"])
    cols: dict[str, list] = {"score": [], "label": [], "categories": [], "explanation": [], "lang": []}
    ind_cols: dict[str, list] = {k: [] for k in ("post_id", "kind", "value", "canonical_id", "chain",
                                                  "span_start", "span_end", "details")}
    lines: list[bytes] = []
    for (post_id, source, _text, _e, _l), a, r in zip(batch, analyses, results):
        expl = orjson.dumps(r.explanation)
        cols["score"].append(r.score)
        cols["label"].append(r.label)
        cols["categories"].append(r.categories)
        cols["explanation"].append(expl.decode())
        cols["lang"].append(guess_lang(a.norm.text))
        for ind in a.indicators:
            ind_cols["post_id"].append(post_id)
            ind_cols["kind"].append(ind.kind)
            ind_cols["value"].append(ind.value)
            ind_cols["canonical_id"].append(ind.canonical_id)
            ind_cols["chain"].append(ind.chain)
            ind_cols["span_start"].append(ind.start)
            ind_cols["span_end"].append(ind.end)
            ind_cols["details"].append(orjson.dumps(ind.details, default=str).decode() if ind.details else None)
        lines.append(orjson.dumps({
            "id": post_id, "source": source, "score": round(r.score, 6), "label": r.label,
            "categories": r.categories, "indicators": as_contract(a.indicators),
            "explanation": r.explanation,
        }) + b"\n")
    return {"cols": cols, "indicators": ind_cols, "lines": b"".join(lines)}


# ---- the scan -------------------------------------------------------------------------------------------


def scan_paths(ws, paths: Sequence[str | Path], fmt: str = "auto", out: str | Path | None = None,
               lexicons: Sequence[str | Path] = (), batch_size: int = BATCH_SIZE, threshold: float | None = None,
               model_path: str | Path | None = None, workers: int | None = None,
               show_progress: bool = True) -> ScanReport:
    """Scan posts into the workspace (`posts`, `indicators`, `quarantine`) and optionally --out JSONL."""
    from narcotrace.console import progress
    from narcotrace.workspace import utcnow

    read_report = ReadReport()
    stream = read_posts(paths, fmt, report=read_report)  # raises at once on missing paths / bad --format
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        from narcotrace.errors import UserError

        raise UserError(f"--threshold {threshold}: give a probability between 0 and 1")
    model = load_model(model_path)
    lex_paths = [str(p) for p in lexicons]
    Lexicon.load([Path(p) for p in lex_paths])  # validate users' lexicons before reading anything
    report = ScanReport(read_report, model_version=model.version, out=Path(out) if out else None)
    out_f = open(out, "wb") if out else None
    scanned_at = utcnow()
    # DuckDB would otherwise cache up to 80 % of RAM while a big scan grows the tables; the scan's own
    # memory (batches in flight, workers) stays well under 1 GiB, so 1 GiB for the database keeps the
    # whole command under 2 GiB.
    old_limit = ws.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    ws.con.execute("SET memory_limit = '1GiB'")
    batches = _batches(stream, batch_size, ws, report)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    try:
        with progress() as bar:
            task = bar.add_task("scanning posts", total=None) if show_progress else None
            for posts, result in _run(batches, model_path, lex_paths, threshold, n_workers):
                _store(ws, posts, result, model.version, scanned_at, report)
                if out_f is not None:
                    out_f.write(result["lines"])
                if task is not None:
                    bar.update(task, advance=len(posts))
    finally:
        if out_f is not None:
            out_f.close()
        ws.con.execute(f"SET memory_limit = '{old_limit}'")
    ws.audit("scan", ", ".join(str(p) for p in paths)[:500], {
        "format": fmt, "read": read_report.read, "stored": report.stored, "quarantined": report.quarantined,
        "labels": dict(report.counts), "model_version": model.version, "extractor_version": EXTRACTOR_VERSION,
        "out": str(out) if out else None, "lexicons": lex_paths, "threshold": threshold,
    })
    return report


def _batches(stream: Iterable[RawPost | Quarantined], size: int, ws, report: ScanReport) -> Iterator[list[RawPost]]:
    batch: list[RawPost] = []
    chars = 0
    bad: list[tuple[str, int, str, str]] = []
    for item in stream:
        if isinstance(item, RawPost):
            batch.append(item)
            chars += len(item.text)
            if len(batch) >= size or chars >= BATCH_CHARS:
                yield batch
                batch = []
                chars = 0
        else:
            bad.append((item.source, item.source_row, item.reason, item.raw))
            if len(bad) >= 1000:
                report.quarantined += ws.quarantine("posts", bad)
                bad = []
    if bad:
        report.quarantined += ws.quarantine("posts", bad)
    if batch:
        yield batch


def _payload(posts: list[RawPost]) -> list[tuple]:
    return [(p.post_id, p.url or p.source, p.text, p.entities, p.links) for p in posts]


def _run(batches: Iterator[list[RawPost]], model_path, lexicons: list[str], threshold: float | None,
         n_workers: int) -> Iterator[tuple[list[RawPost], dict]]:
    """Results in input order; in-process for one batch, else in a pool with few batches in flight."""
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None)
    if second is None or n_workers <= 1:
        _init(str(model_path) if model_path else None, lexicons, threshold)
        for b in (first, second) if second is not None else (first,):
            yield b, _process(_payload(b))
        for b in batches:
            yield b, _process(_payload(b))
        return
    # forkserver: workers start from a clean process (the parent holds DuckDB threads, unsafe to fork)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["narcotrace.online.scan"])
    with ctx.Pool(n_workers, initializer=_init,
                  initargs=(str(model_path) if model_path else None, lexicons, threshold)) as pool:
        pending: deque = deque()

        def submit(b: list[RawPost]) -> None:
            pending.append((b, pool.apply_async(_process, (_payload(b),))))

        submit(first)
        submit(second)
        for b in batches:
            submit(b)
            while len(pending) > 2 * n_workers:
                done, res = pending.popleft()
                yield done, res.get()
        while pending:
            done, res = pending.popleft()
            yield done, res.get()


_POSTS_SCHEMA = pa.schema([
    ("post_id", pa.string()), ("source_format", pa.string()), ("source", pa.string()),
    ("source_row", pa.int64()), ("captured_at", pa.timestamp("us")), ("sha256", pa.string()),
    ("channel", pa.string()), ("author", pa.string()), ("date", pa.timestamp("us")), ("url", pa.string()),
    ("text", pa.string()), ("lang", pa.string()), ("score", pa.float64()), ("label", pa.string()),
    ("categories", pa.list_(pa.string())), ("explanation", pa.string()), ("model_version", pa.string()),
    ("scanned_at", pa.timestamp("us")),
])
_IND_SCHEMA = pa.schema([
    ("post_id", pa.string()), ("kind", pa.string()), ("value", pa.string()), ("canonical_id", pa.string()),
    ("chain", pa.string()), ("span_start", pa.int32()), ("span_end", pa.int32()), ("details", pa.string()),
    ("extractor_version", pa.string()),
])


def _store(ws, posts: list[RawPost], result: dict, model_version: str, scanned_at, report: ScanReport) -> None:
    # A post id seen twice in one batch (duplicated input lines) keeps its last row, like a re-scan.
    last = {p.post_id: i for i, p in enumerate(posts)}
    keep = sorted(last.values()) if len(last) < len(posts) else range(len(posts))
    c = result["cols"]
    n = len(keep)
    data = {
        "post_id": [posts[i].post_id for i in keep],
        "source_format": [posts[i].source_format for i in keep],
        "source": [posts[i].source for i in keep],
        "source_row": [posts[i].source_row for i in keep],
        "captured_at": [posts[i].captured_at for i in keep],
        "sha256": [posts[i].sha256 for i in keep],
        "channel": [posts[i].channel for i in keep],
        "author": [posts[i].author for i in keep],
        "date": [posts[i].date for i in keep],
        "url": [posts[i].url for i in keep],
        "text": [posts[i].text for i in keep],
        "lang": [c["lang"][i] for i in keep],
        "score": [c["score"][i] for i in keep],
        "label": [c["label"][i] for i in keep],
        "categories": [c["categories"][i] for i in keep],
        "explanation": [c["explanation"][i] for i in keep],
        "model_version": [model_version] * n,
        "scanned_at": [scanned_at] * n,
    }
    posts_tbl = pa.table(data, schema=_POSTS_SCHEMA)
    ic = result["indicators"]
    ind_tbl = pa.table({**ic, "extractor_version": [EXTRACTOR_VERSION] * len(ic["post_id"])}, schema=_IND_SCHEMA)
    if len(keep) < len(posts):
        ind_tbl = _dedupe_indicators(ind_tbl)
    con = ws.con
    con.register("_scan_posts", posts_tbl)
    con.register("_scan_inds", ind_tbl)
    try:
        con.execute("BEGIN TRANSACTION")
        # delete-then-insert is cheaper than INSERT OR REPLACE on the primary key, and replaces the same
        con.execute("DELETE FROM indicators WHERE post_id IN (SELECT post_id FROM _scan_posts)")
        con.execute("DELETE FROM posts WHERE post_id IN (SELECT post_id FROM _scan_posts)")
        con.execute("INSERT INTO posts BY NAME SELECT * FROM _scan_posts")
        con.execute("INSERT INTO indicators BY NAME SELECT * FROM _scan_inds")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_scan_posts")
        con.unregister("_scan_inds")
    report.stored += len(posts)
    for label in (c["label"][i] for i in range(len(posts))):
        report.counts[label] += 1
    report.indicators.update(ic["kind"])


def _dedupe_indicators(tbl: pa.Table) -> pa.Table:
    """Duplicated input lines give the same indicators twice; keep one of each (post, kind, value, span)."""
    seen: set[tuple] = set()
    keep = []
    cols = [tbl.column(k).to_pylist() for k in ("post_id", "kind", "value", "span_start")]
    for i, key in enumerate(zip(*cols)):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return tbl.take(keep)
