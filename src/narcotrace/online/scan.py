"""`narcotrace scan`: read posts, classify them, extract their indicators, store them and write --out JSONL.

Streaming in batches: the reader (main process) yields posts; each batch is normalised, matched,
classified and its indicators extracted (in worker processes when the input is larger than a batch,
since that part is CPU-bound); the main process writes the batch to the workspace with one Arrow insert
per table and appends the --out lines. Re-scanning a post (same post id) replaces its row and its
indicators. The accounting follows the readers': read = stored + quarantined, per file.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing as mp
import os
import pickle
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from narcotrace.online.classify import PostClassifier, analyse_batch, load_model, shipped_model_path
from narcotrace.online.indicators import EXTRACTOR_VERSION, as_contract
from narcotrace.online.lexicon import Lexicon
from narcotrace.online.sources import Quarantined, RawPost, ReadReport, read_posts

# Posts per worker task. 2,000 took ~100 MiB less per worker (peak 1.75 against 1.9-2.0 GiB for 1 M posts)
# but ran 15-20 % slower end to end at 1 M posts (more tasks through the main process), so 4,000.
BATCH_SIZE = 4000
BATCH_CHARS = 4_000_000  # pages are long: a batch also ends at this many characters of text

_KK = re.compile(r"[әғқңөұүһі]")
_CYR = re.compile(r"[а-яё]")
_LAT = re.compile(r"[a-z]")


def guess_lang(text: str) -> str:
    """ru | kk | en | mixed, from the letters of the normalised text (Kazakh letters mark kk)."""
    return _lang_of(len(_CYR.findall(text)), len(_LAT.findall(text)), len(_KK.findall(text)))


def _lang_of(cyr: int, lat: int, kk: int) -> str:
    letters = cyr + lat + kk
    if not letters:
        return "ru"
    if cyr + kk and lat and min(cyr + kk, lat) / letters > 0.2:
        return "mixed"
    if lat > cyr + kk:
        return "en"
    return "kk" if kk else "ru"


def _letter_classes() -> np.ndarray:
    cls = np.zeros(0x500, dtype=np.int8)  # 0 other, 1 Cyrillic а-яё, 2 Latin a-z, 3 Kazakh letters
    for ch in "абвгдежзийклмнопрстуфхцчшщъыьэюяё":
        cls[ord(ch)] = 1
    for ch in "abcdefghijklmnopqrstuvwxyz":
        cls[ord(ch)] = 2
    for ch in "әғқңөұүһі":
        cls[ord(ch)] = 3
    return cls


_LETTER_CLASS = _letter_classes()


def guess_langs(texts: Sequence[str]) -> list[str]:
    """`guess_lang` of many texts at once: one NumPy pass over the batch's code points."""
    if not texts:
        return []
    cp = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    doc = np.repeat(np.arange(len(texts)), lengths)
    cls = np.where(cp < len(_LETTER_CLASS), _LETTER_CLASS[np.minimum(cp, len(_LETTER_CLASS) - 1)], 0)
    counts = np.bincount(doc * 4 + cls, minlength=4 * len(texts)).reshape(len(texts), 4)
    return [_lang_of(c, lat, kk) for c, lat, kk in counts[:, 1:].tolist()]


@dataclass
class ScanReport:
    """What a scan did: the readers' accounting, posts stored by label, indicators, and the model used."""

    read: ReadReport
    stored: int = 0
    counts: Counter = field(default_factory=Counter)  # posts by label
    indicators: Counter = field(default_factory=Counter)  # indicators by kind
    quarantined: int = 0
    analysed: int = 0  # posts analysed and classified; the rest repeated a text already classified
    model_version: str = ""
    out: Path | None = None

    def render(self) -> list[str]:
        lines = self.read.lines()
        lines.append(f"stored {self.stored:,} posts: " + ", ".join(
            f"{self.counts.get(k, 0):,} {k}" for k in ("sale", "recruitment", "none")))
        if self.indicators:
            lines.append("indicators: " + ", ".join(f"{n:,} {k}" for k, n in sorted(self.indicators.items())))
        if self.analysed < self.stored:
            lines.append(f"analysed {self.analysed:,} posts; {self.stored - self.analysed:,} repeated a text "
                         "already classified and reused its result")
        lines.append(f"read {self.read.read:,} = {self.stored:,} stored + {self.quarantined:,} quarantined"
                     f" (model {self.model_version})")
        if self.out:
            lines.append(f"wrote {self.out}")
        return lines


# ---- the CPU-bound part (runs in workers for big inputs) ---------------------------------------------

_STATE: dict = {}


def _init(model_path: str | None, lexicons: Sequence[str], threshold: float | None, worker: bool = False,
          cache_bytes: int | None = None) -> None:
    _STATE["model"] = load_model(model_path, scoring_only=True)
    _STATE["lexicon"] = Lexicon.load([Path(p) for p in lexicons])
    _STATE["threshold"] = threshold
    _STATE["cache"] = _ResultCache(RESULT_CACHE_BYTES if cache_bytes is None else cache_bytes)
    if worker:
        # A batch allocates hundreds of thousands of short-lived objects (matches, indicators, dicts) and
        # no cycles worth collecting; with the default thresholds the cyclic collector kept walking the
        # model and lexicon (moved out of its way by freeze()) and took ~15 % of a worker's time.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*_GC_THRESHOLDS)
        keep_freed_memory()


_GC_THRESHOLDS = (50_000, 20, 100)

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
WORKER_MMAP_THRESHOLD = 32 << 20  # glibc's largest
WORKER_TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Make glibc's allocator keep the memory a batch frees, for the next batch (a worker process only).

    A batch's n-gram arrays are tens of MB. By default glibc serves such blocks with fresh mmap()s, or trims
    the heap top after they are freed, so every batch faulted its memory in again: 2.7 page faults and 12 µs
    of kernel time a post, plus slower user time behind it (warm worker loop: 0 faults and 0 kernel time
    with this, user time 218-230 against 240-249 µs a post; peak RSS +12 MiB a worker). Returns whether the
    allocator is glibc's and took the settings (elsewhere nothing changes)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD))


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off while a batch is analysed, back as it was after.

    A batch makes a few hundred thousand short-lived containers (matches, indicators, lists) and almost no
    reference cycles (72 collected objects in 240,000 posts), so every collection inside it walked live
    objects for nothing: 7-9 µs a post of a worker even at _GC_THRESHOLDS. Memory is the same (a worker's
    peak RSS 575 against 574 MiB over 100,000 posts); what a batch leaves in a cycle is collected after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _relaxed_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes in the main process while it reads and writes a scan's batches."""
    old = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


# Results of texts already classified in this process, by text. Shops post the same advert to many
# channels and repost it for days, so a stream repeats whole texts; a repeat costs a look-up and an
# unpickling instead of the analysis. Bounded in bytes; least recently used entries go first.
RESULT_CACHE_BYTES = 32 << 20


@dataclass(slots=True)
class _Result:
    """What one text classifies to, ready to be copied into the columns and --out lines of its posts."""

    score: float
    label: str
    categories: list[str]
    explanation: bytes  # JSON
    lang: str
    indicators: tuple  # (kind, value, canonical_id, chain, start, end, details JSON or None) per indicator
    tail: bytes  # the --out line after "id" and "source", up to the explanation


class _ResultCache:
    """`_Result`s by a 128-bit BLAKE2b digest of the text, each packed into one bytes object.

    One allocation per entry, not the text and a dozen small objects: kept small objects pinned the
    allocator's pages of each whole batch they came from, and a worker's memory grew by several times the
    cache's size over a million distinct posts.

    A text is kept from its second sighting on (a "doorkeeper", as in TinyLFU): one bit per key hash, in a
    bit array cleared when a quarter of it is set, remembers the texts seen once. Packing a result costs
    ~3.5 µs, which a stream of distinct texts paid on every post for nothing; now a text that repeats is
    analysed twice before its repeats are served from the cache, and one seen once costs a bit."""

    SEEN_BITS = 1 << 24  # 2 MiB: ~4 M texts between clearings, at most 1 in 4 mistaken for seen

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: dict[bytes, bytes] = {}
        self.hits = self.misses = 0
        self._seen = bytearray(self.SEEN_BITS // 8) if max_bytes else bytearray()
        self._n_seen = 0

    def seen_before(self, key: bytes) -> bool:
        """Whether the text of `key` was seen before (rarely a false yes); marks it seen."""
        h = int.from_bytes(key[:4], "little") & (self.SEEN_BITS - 1)
        byte, bit = h >> 3, 1 << (h & 7)
        seen = self._seen
        if seen[byte] & bit:
            return True
        if self._n_seen >= self.SEEN_BITS // 4:
            seen[:] = bytes(len(seen))
            self._n_seen = 0
        seen[byte] |= bit
        self._n_seen += 1
        return False

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: bytes) -> _Result | None:
        blob = self.entries.pop(key, None)
        if blob is None:
            return None
        self.entries[key] = blob  # most recently used last
        return _Result(*pickle.loads(blob))

    def put(self, key: bytes, r: _Result) -> None:
        if not self.max_bytes or key in self.entries or not self.seen_before(key):
            return
        blob = pickle.dumps((r.score, r.label, r.categories, r.explanation, r.lang, r.indicators, r.tail),
                            protocol=pickle.HIGHEST_PROTOCOL)
        size = len(blob) + 150  # the blob's header, its key and the dictionary's slot
        if size > self.max_bytes // 4:
            return
        entries = self.entries
        entries[key] = blob
        self.bytes += size
        if self.bytes > self.max_bytes:
            for old in list(entries)[: max(1, len(entries) // 4)]:  # drop the least recently used quarter
                self.bytes -= len(entries.pop(old)) + 150


def _classify(texts: Sequence[str], extras: Sequence[tuple]) -> list[_Result]:
    """Analyse and classify texts, each with its (entities, links); one `_Result` each."""
    model: PostClassifier = _STATE["model"]
    lexicon: Lexicon = _STATE["lexicon"]
    analyses = analyse_batch(texts, lexicon, [e[0] for e in extras], [e[1] for e in extras])
    results = model.classify(analyses, threshold=_STATE["threshold"])
    langs = guess_langs([a.norm.text for a in analyses])
    out = []
    for a, r, lang in zip(analyses, results, langs):
        expl = orjson.dumps(r.explanation)  # serialised once: column and --out line
        inds = tuple((i.kind, i.value, i.canonical_id, i.chain, i.start, i.end,
                      orjson.dumps(i.details, default=str).decode() if i.details else None)
                     for i in a.indicators)
        tail = orjson.dumps({"score": round(r.score, 6), "label": r.label, "categories": r.categories,
                             "indicators": as_contract(a.indicators)})
        tail = b"," + tail[1:-1] + b',"explanation":'
        out.append(_Result(r.score, r.label, r.categories, expl, lang, inds, tail))
    return out


_NO_EXTRAS = (None, None)


def _process(batch: tuple) -> dict:
    """Classify and extract one batch (see `_payload`: ids, sources, texts, and the entities and links of
    the posts that have them) into column lists.

    A text seen before in this process (and a text repeated within the batch) is classified once; posts
    with Telegram entities or HTML links are always analysed, since those add indicators."""
    with _no_cyclic_gc():
        return _process_batch(batch)


def _process_batch(batch: tuple) -> dict:
    ids, sources, texts, extras = batch
    cache: _ResultCache = _STATE["cache"]
    slots: list[_Result | int] = []  # per post: its cached result, or its place in `fresh`
    fresh: list[int] = []  # rows to classify now
    todo: dict[bytes, int] = {}  # text's key -> place in `fresh`
    for row, text in enumerate(texts):
        if row in extras:
            slots.append(len(fresh))
            fresh.append(row)
            continue
        key = cache.key(text)
        k = todo.get(key)
        if k is None:
            r = cache.get(key)
            if r is not None:
                slots.append(r)
                continue
            k = todo[key] = len(fresh)
            fresh.append(row)
        slots.append(k)
    cache.hits += len(texts) - len(fresh)
    cache.misses += len(fresh)
    computed = _classify([texts[i] for i in fresh], [extras.get(i, _NO_EXTRAS) for i in fresh]) if fresh else []
    for key, k in todo.items():
        cache.put(key, computed[k])
    found = [computed[s] if type(s) is int else s for s in slots]
    out = _columns(ids, sources, texts, found)
    out["analysed"] = len(fresh)
    out["model_version"] = _STATE["model"].version
    return out


def _columns(ids: list[str], sources: list[str], texts: list[str], found: list[_Result]) -> dict:
    cols: dict[str, list] = {
        "score": [r.score for r in found], "label": [r.label for r in found],
        "categories": [r.categories for r in found], "explanation": [r.explanation.decode() for r in found],
        "lang": [r.lang for r in found],
    }
    # indicator rows, flattened in post order
    rows = [row for row, r in enumerate(found) for _ in r.indicators]
    inds = [ind for r in found for ind in r.indicators]
    ind_cols: dict[str, list] = {
        "post_id": [ids[row] for row in rows], "row": rows, "kind": [i[0] for i in inds],
        "value": [i[1] for i in inds], "canonical_id": [i[2] for i in inds], "chain": [i[3] for i in inds],
        "span_start": [i[4] for i in inds], "span_end": [i[5] for i in inds], "details": [i[6] for i in inds],
    }
    dumps = orjson.dumps
    lines = b"".join(dumps({"id": i, "source": src})[:-1] + r.tail + r.explanation + b"}\n"
                     for i, src, r in zip(ids, sources, found))
    return {"cols": cols, "indicators": ind_cols, "lines": lines, "chars": sum(map(len, texts))}


# ---- the scan -------------------------------------------------------------------------------------------


def scan_paths(ws, paths: Sequence[str | Path], fmt: str = "auto", out: str | Path | None = None,
               lexicons: Sequence[str | Path] = (), batch_size: int = BATCH_SIZE, threshold: float | None = None,
               model_path: str | Path | None = None, workers: int | None = None,
               show_progress: bool = True, result_cache_bytes: int | None = None) -> ScanReport:
    """Scan posts into the workspace (`posts`, `indicators`, `quarantine`) and optionally --out JSONL.

    `result_cache_bytes` bounds each process's cache of results by text (default RESULT_CACHE_BYTES; 0: none).
    """
    from narcotrace.console import progress
    from narcotrace.workspace import duckdb_memory_limit, utcnow

    read_report = ReadReport()
    stream = read_posts(paths, fmt, report=read_report)  # raises at once on missing paths / bad --format
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        from narcotrace.errors import UserError

        raise UserError(f"--threshold {threshold}: give a probability between 0 and 1")
    version = _model_version(model_path)
    lex_paths = [str(p) for p in lexicons]
    Lexicon.load([Path(p) for p in lex_paths])  # validate users' lexicons before reading anything
    report = ScanReport(read_report, model_version=version, out=Path(out) if out else None)
    out_f = open(out, "wb") if out else None
    scanned_at = utcnow()
    batches = _batches(stream, batch_size, ws, report)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    writer = _Writer(ws, version, scanned_at, report)
    try:
        with progress() as bar, _relaxed_gc():
            task = bar.add_task("scanning posts", total=None) if show_progress else None
            results = _run(batches, model_path, lex_paths, threshold, n_workers, result_cache_bytes)
            for posts, result in results:
                writer.add(posts, result)
                if out_f is not None:
                    out_f.write(result["lines"])
                if task is not None:
                    bar.update(task, advance=len(posts))
    finally:
        try:
            writer.flush()  # what was classified before an error is kept too
        finally:
            if out_f is not None:
                out_f.close()
            ws.con.execute(f"SET memory_limit = '{duckdb_memory_limit()}'")  # the workspace's, as opened
            ws.con.execute(f"SET threads = {writer.threads_before}")
    ws.audit("scan", ", ".join(str(p) for p in paths)[:500], {
        "format": fmt, "read": read_report.read, "stored": report.stored, "quarantined": report.quarantined,
        "labels": dict(report.counts), "model_version": report.model_version,
        "extractor_version": EXTRACTOR_VERSION, "out": str(out) if out else None, "lexicons": lex_paths,
        "threshold": threshold,
    })
    return report


def _model_version(model_path: str | Path | None) -> str:
    """The version of the model a scan will use. A user's --model is loaded here, so that a bad file fails
    before anything is read; the shipped model's version is read from its card: loading it would cost the
    main process ~125 MiB (scikit-learn and the coefficients) that only the workers need. The workers report
    the version they loaded with every batch, and the stored rows carry theirs."""
    if model_path is None:
        try:
            card = json.loads(shipped_model_path().with_suffix(".json").read_text(encoding="utf-8"))
            if isinstance(card.get("version"), str) and card["version"]:
                return card["version"]
        except (OSError, ValueError):
            pass
    return load_model(model_path).version


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


def _payload(posts: list[RawPost]) -> tuple:
    """A batch for `_process`, as columns: ids, sources, texts, and {row: (entities, links)} of the posts that
    have any. A worker unpickles columns ~5x faster than a tuple per post (1.4 against 6.8 µs a post)."""
    return ([p.post_id for p in posts], [p.url or p.source for p in posts], [p.text for p in posts],
            {row: (p.entities, p.links) for row, p in enumerate(posts) if p.entities or p.links})


def _run(batches: Iterator[list[RawPost]], model_path, lexicons: list[str], threshold: float | None,
         n_workers: int, cache_bytes: int | None = None) -> Iterator[tuple[list[RawPost], dict]]:
    """Results in input order; in-process for one batch, else in a pool with few batches in flight."""
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None)
    initargs = (str(model_path) if model_path else None, lexicons, threshold)
    if second is None or n_workers <= 1:
        _init(*initargs, cache_bytes=cache_bytes)
        try:
            for b in chain((first,) if second is None else (first, second), batches):
                yield b, _process(_payload(b))
        finally:
            _STATE["cache"] = _ResultCache(0)  # a long-lived process (the API) does not keep the results
        return
    # A process pool that fails loudly: when a worker dies (killed for memory, or its start-up fails),
    # every pending batch raises BrokenProcessPool, where multiprocessing.Pool would start new workers
    # and wait forever.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(n_workers, mp_context=_worker_context(), initializer=_init,
                               initargs=(*initargs, True, cache_bytes))
    pending: deque = deque()
    try:
        pending.append((first, pool.submit(_process, _payload(first))))
        pending.append((second, pool.submit(_process, _payload(second))))
        for b in batches:
            pending.append((b, pool.submit(_process, _payload(b))))
            while len(pending) > 2 * n_workers:
                done, fut = pending.popleft()
                yield done, fut.result()
        while pending:
            done, fut = pending.popleft()
            yield done, fut.result()
    except BrokenProcessPool as e:
        from narcotrace.errors import UserError

        raise UserError(f"a scan worker process stopped ({e}); the posts classified before it are stored. "
                        "Rerun with --workers 1 to see the error in this process.") from e
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_context():
    """forkserver: workers start from a clean process (the parent holds DuckDB threads, unsafe to fork)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["narcotrace.online.scan"])
    return ctx


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


# Posts buffered per write transaction. Above a DuckDB row group (122,880 rows), DuckDB writes the rows
# straight to the database file, compressed, instead of into the write-ahead log first and into the file
# again at the checkpoint: 60,000 posts per transaction cost the main process ~35 µs per post, 125,000 ~21.
FLUSH_POSTS = 125_000
# A write before the last one takes whole row groups of posts and keeps the rest for the next write. Writes of
# any size left a part-filled row group behind each time, and the checkpoint after the last write (too small
# to go straight to the file) then took 9-10 s at 1 M posts, against 1-2 s when every earlier row group is full.
DUCKDB_ROW_GROUP = 122_880  # DuckDB's default row_group_size
SCAN_DUCKDB_MEMORY = 256 << 20  # DuckDB's cap during a scan (see _Writer)
SCAN_INDEX_BYTES_PER_POST = 64  # an old workspace's key index of posts.post_id took ~41 bytes a key; with headroom
FLUSH_CHARS = 50_000_000  # ... or this many characters of text, whichever comes first (long pages)


_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def _timestamps(values: list[datetime | None]) -> pa.Array:
    """Naive UTC datetimes (or None) as timestamp[us], through integers: pyarrow's own conversion of datetime
    objects took ~6 µs each, the integers ~0.3."""
    try:
        micros = [None if v is None else (v - _EPOCH) // _MICROSECOND for v in values]
    except TypeError:  # a datetime with a time zone: pyarrow converts it to UTC
        return pa.array(values, pa.timestamp("us"))
    return pa.array(micros, pa.int64()).cast(pa.timestamp("us"))


class _Writer:
    """Buffers classified batches as Arrow tables and writes them in few, large transactions.

    One transaction per 4,000-post batch cost more than the classification of the batch's posts on the
    main process (each commit goes through the WAL and a checkpoint); one per FLUSH_POSTS lets DuckDB
    write whole row groups straight to the file. A post id that occurs twice keeps its last row and that
    row's indicators, like a re-scan; rows already in the workspace with the same ids are replaced.
    """

    def __init__(self, ws, model_version: str, scanned_at, report: ScanReport) -> None:
        self.ws = ws
        self.model_version = model_version
        self.scanned_at = scanned_at
        self.report = report
        self._posts: list[pa.Table] = []
        self._inds: list[pa.Table] = []
        self._rows = 0
        self._chars = 0
        self._stored = ws.count("posts")  # rows of `posts` after the last write: sizes DuckDB's memory cap
        self._keyed = bool(ws.con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'posts' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()[0])
        self._set_memory_limit()
        # One DuckDB thread for the writes: the workers hold the other cores, and the compression of a flush
        # on two threads took ~40 % more CPU in all (25 against 15 µs a post, measured at 400,000 posts).
        self.threads_before = ws.con.execute("SELECT current_setting('threads')").fetchone()[0]
        ws.con.execute("SET threads = 1")

    def _set_memory_limit(self) -> None:
        """DuckDB would otherwise cache up to its workspace limit (half of RAM) while a big scan grows the
        tables. The scan's own memory (two workers of ~450 MiB, the batches in flight, up to FLUSH_POSTS
        posts buffered for the next write) stays under 1.5 GiB, so DuckDB gets SCAN_DUCKDB_MEMORY: 1 M posts
        stay under 2 GiB in all. (512 MiB wrote no faster: the main process took 47-49 s of CPU for 1 M
        posts either way.) Workspaces made before posts lost its primary key keep their key index, which
        DuckDB must hold in memory (~41 bytes a post id): it gets that much more."""
        index = SCAN_INDEX_BYTES_PER_POST * self._stored if self._keyed else 0
        self.ws.con.execute(f"SET memory_limit = '{(SCAN_DUCKDB_MEMORY + index) >> 20}MiB'")

    def add(self, posts: list[RawPost], result: dict) -> None:
        c = result["cols"]
        n = len(posts)
        data = {
            "post_id": [p.post_id for p in posts],
            "source_format": [p.source_format for p in posts],
            "source": [p.source for p in posts],
            "source_row": [p.source_row for p in posts],
            "captured_at": _timestamps([p.captured_at for p in posts]),
            "sha256": [p.sha256 for p in posts],
            "channel": [p.channel for p in posts],
            "author": [p.author for p in posts],
            "date": _timestamps([p.date for p in posts]),
            "url": [p.url for p in posts],
            "text": [p.text for p in posts],
            "lang": c["lang"],
            "score": c["score"],
            "label": c["label"],
            "categories": c["categories"],
            "explanation": c["explanation"],
            "model_version": pa.repeat(result.get("model_version", self.model_version), n),
            "scanned_at": pa.repeat(pa.scalar(self.scanned_at, pa.timestamp("us")), n),
        }
        self._posts.append(pa.table(data, schema=_POSTS_SCHEMA))
        ic = dict(result["indicators"])
        rows = ic.pop("row")
        ind = pa.table({**ic, "extractor_version": pa.repeat(EXTRACTOR_VERSION, len(rows))}, schema=_IND_SCHEMA)
        # the post's position in the buffer, to drop the indicators of a post id's earlier occurrences
        self._inds.append(ind.append_column("_row", pa.array([self._rows + r for r in rows], pa.int64())))
        self._rows += n
        self._chars += result.get("chars", 0)
        report = self.report
        report.stored += n
        report.analysed += result.get("analysed", n)
        report.model_version = result.get("model_version", report.model_version)
        report.counts.update(c["label"])
        report.indicators.update(ic["kind"])
        if self._rows >= FLUSH_POSTS or self._chars >= FLUSH_CHARS:
            self.flush(final=False)

    def flush(self, final: bool = True) -> None:
        """Write the buffered posts and their indicators; all of them when `final`, else whole DuckDB row groups
        of posts (all, when fewer than a row group are buffered), keeping the rest for the next write."""
        if not self._posts:
            return
        posts_tbl = pa.concat_tables(self._posts)
        ind_tbl = pa.concat_tables(self._inds)
        self._posts, self._inds, self._rows, self._chars = [], [], 0, 0
        whole = posts_tbl.num_rows // DUCKDB_ROW_GROUP * DUCKDB_ROW_GROUP
        if not final and 0 < whole < posts_tbl.num_rows:
            rest = posts_tbl.slice(whole)
            later = pa.compute.greater_equal(ind_tbl.column("_row"), whole)
            rest_inds = ind_tbl.filter(later)
            self._posts = [rest]
            self._inds = [rest_inds.set_column(rest_inds.schema.get_field_index("_row"), "_row",
                                               pa.compute.subtract(rest_inds.column("_row"), whole))]
            self._rows = rest.num_rows
            self._chars = pa.compute.sum(pa.compute.utf8_length(rest.column("text"))).as_py() or 0
            posts_tbl = posts_tbl.slice(0, whole)
            ind_tbl = ind_tbl.filter(pa.compute.invert(later))
        ids = posts_tbl.column("post_id").to_pylist()
        last = dict(zip(ids, range(len(ids))))
        if len(last) < len(ids):  # duplicated ids in the buffer: the last occurrence wins
            keep = sorted(last.values())
            posts_tbl = posts_tbl.take(keep)
            kept = pa.array(keep, pa.int64())
            ind_tbl = ind_tbl.filter(pa.compute.is_in(ind_tbl.column("_row"), value_set=kept))
        ind_tbl = ind_tbl.drop_columns(["_row"])
        self._stored += posts_tbl.num_rows
        self._set_memory_limit()
        with self.ws.transaction(_scan_posts=posts_tbl, _scan_inds=ind_tbl) as con:
            # delete-then-insert is cheaper than INSERT OR REPLACE on the primary key, and replaces the same
            con.execute("DELETE FROM indicators WHERE post_id IN (SELECT post_id FROM _scan_posts)")
            con.execute("DELETE FROM posts WHERE post_id IN (SELECT post_id FROM _scan_posts)")
            con.execute("INSERT INTO posts BY NAME SELECT * FROM _scan_posts")
            con.execute("INSERT INTO indicators BY NAME SELECT * FROM _scan_inds")
        self._stored = self.ws.count("posts")
