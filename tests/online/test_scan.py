"""`scan_paths`: accounting, workspace tables, --out lines, quarantine, idempotent re-scan, workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narcotrace.online.scan import guess_lang, scan_paths

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "online"

POSTS = [
    {"id": "s1", "text": "Меф 1г 15000 тг, клад магнит, Алматы. Пиши @shop_kz_test, карта 4400 4301 2345 6789"},
    {"id": "s2", "text": "Продам фен для волос Philips, почти новый, 8000 тг"},
    {"id": "s3", "text": "Нужны курьеры-закладчики, оплата 250к в неделю, пиши @rabota_kz_klad"},
    {"id": "s4", "text": "Сосновые шишки для декора, мешок 500 тг, звоните +7 701 234 5678"},
]


def write_jsonl(path: Path, rows: list, extra_lines: list[str] = ()) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def test_scan_stores_posts_and_indicators_and_writes_out(workspace, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", POSTS, ['{"id": "bad", "text": ', '["not", "an", "object"]'])
    out = tmp_path / "out.jsonl"
    report = scan_paths(workspace, [src], out=out)
    assert report.read.read == report.stored + report.quarantined == 6
    assert report.stored == 4 and report.quarantined == 2
    assert report.counts["sale"] >= 1 and report.counts["none"] >= 2
    assert sum(report.counts.values()) == 4
    assert workspace.count("posts") == 4
    assert workspace.count("quarantine") == 2
    reasons = [r[0] for r in workspace.con.execute("SELECT reason FROM quarantine ORDER BY source_row").fetchall()]
    assert "JSON" in reasons[0]
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(rows) == {"s1", "s2", "s3", "s4"}
    s1 = rows["s1"]
    assert s1["label"] == "sale" and s1["categories"] == ["mephedrone"]
    assert s1["indicators"]["telegram"] == ["shop_kz_test"]
    assert s1["indicators"]["cards"] == ["4400430123456789"]
    assert rows["s2"]["label"] == "none"
    assert rows["s3"]["label"] == "recruitment"
    assert rows["s4"]["indicators"]["phones"] == ["+77012345678"]
    db = dict(workspace.con.execute("SELECT post_id, label FROM posts").fetchall())
    assert db == {k: v["label"] for k, v in rows.items()}
    kinds = workspace.con.execute(
        "SELECT kind, value, canonical_id, span_start, span_end FROM indicators WHERE post_id = 's1' ORDER BY span_start"
    ).fetchall()
    assert [k[0] for k in kinds] == ["telegram", "card"]
    assert kinds[1][2] == "card:4400430123456789"
    text = POSTS[0]["text"]
    assert text[kinds[0][3]:kinds[0][4]] == "@shop_kz_test"
    expl, model_version, src_row, sha = workspace.con.execute(
        "SELECT explanation, model_version, source_row, sha256 FROM posts WHERE post_id = 's1'").fetchone()
    assert json.loads(expl) == s1["explanation"]
    assert model_version == report.model_version and src_row == 1 and len(sha) == 64
    assert workspace.con.execute("SELECT count(*) FROM audit_log WHERE action = 'scan'").fetchone()[0] == 1
    lines = "\n".join(report.render())
    assert "read 6 = 4 stored + 2 quarantined" in lines


def test_rescan_replaces_rows_not_duplicates(workspace, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", POSTS)
    scan_paths(workspace, [src])
    n_ind = workspace.count("indicators")
    assert n_ind >= 3
    changed = [dict(POSTS[0], text="Продам фен для волос, 5000 тг")] + POSTS[1:]
    scan_paths(workspace, [write_jsonl(tmp_path / "in2.jsonl", changed)])
    assert workspace.count("posts") == 4
    assert workspace.con.execute("SELECT label FROM posts WHERE post_id = 's1'").fetchone()[0] == "none"
    assert workspace.con.execute("SELECT count(*) FROM indicators WHERE post_id = 's1'").fetchone()[0] == 0
    assert workspace.count("indicators") == n_ind - 2


def test_duplicate_ids_in_one_batch_keep_the_last(workspace, tmp_path):
    src = write_jsonl(tmp_path / "dup.jsonl", [POSTS[0], dict(POSTS[0]), POSTS[1]])
    report = scan_paths(workspace, [src])
    assert report.stored == 3
    assert workspace.count("posts") == 2
    assert workspace.con.execute("SELECT count(*) FROM indicators WHERE post_id = 's1'").fetchone()[0] == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_an_id_repeated_across_batches_keeps_its_last_text_and_only_its_indicators(workspace, tmp_path, workers):
    # s1 first as a shop ad (handle + card), later, in another batch, edited into a hair-dryer sale
    edited = dict(POSTS[0], text="Продам фен, 5000 тг, пишите @fen_seller_kz")
    src = write_jsonl(tmp_path / "dup.jsonl", [POSTS[0], POSTS[1], POSTS[2], edited, POSTS[3]])
    report = scan_paths(workspace, [src], batch_size=2, workers=workers)
    assert report.stored == 5 and workspace.count("posts") == 4
    row = workspace.con.execute("SELECT text, label FROM posts WHERE post_id = 's1'").fetchone()
    assert row == (edited["text"], "none")
    inds = workspace.con.execute("SELECT kind, value FROM indicators WHERE post_id = 's1'").fetchall()
    assert inds == [("telegram", "fen_seller_kz")]


def test_writes_before_the_last_take_whole_row_groups_and_store_what_one_write_would(tmp_path, monkeypatch):
    # a write before the last takes whole DuckDB row groups of posts (here 4) and keeps the rest for the next;
    # what is stored (rows, their indicators, an id edited across the boundary keeping its last text) is what
    # a single write stores
    from narcotrace.online import scan
    from narcotrace.workspace import Workspace

    edited = dict(POSTS[0], text="Продам фен, 5000 тг, пишите @fen_seller_kz")
    rows = [dict(p, id=f"{p['id']}-{i}") for i in range(4) for p in POSTS] + [dict(edited, id="s1-0")]
    src = write_jsonl(tmp_path / "rows.jsonl", rows)
    query = ("SELECT p.post_id, p.text, p.label, list(i.value ORDER BY i.span_start) FROM posts p "
             "LEFT JOIN indicators i USING (post_id) GROUP BY ALL ORDER BY p.post_id")
    stored = {}
    writes = {}
    real = scan._Writer.flush
    for name, row_group, flush_posts in (("one write", 10**9, 10**9), ("row groups", 4, 5)):
        monkeypatch.setattr(scan, "DUCKDB_ROW_GROUP", row_group)
        monkeypatch.setattr(scan, "FLUSH_POSTS", flush_posts)
        sizes = []

        def counting(self, final=True, real=real, sizes=sizes):
            before = self.ws.count("posts") if self._posts else None
            real(self, final)
            if before is not None:
                sizes.append((final, self.ws.count("posts") - before, self._rows))

        monkeypatch.setattr(scan._Writer, "flush", counting)
        ws = Workspace.open(tmp_path / name)
        report = scan_paths(ws, [src], batch_size=3, workers=1, show_progress=False)
        assert report.stored == len(rows)
        stored[name] = ws.con.execute(query).fetchall()
        writes[name] = sizes
        ws.close()
    assert stored["one write"] == stored["row groups"]
    assert len(stored["row groups"]) == 16
    assert ("s1-0", edited["text"], "none", ["fen_seller_kz"]) in stored["row groups"]
    assert writes["one write"] == [(True, 16, 0)]
    # 17 posts in batches of 3 (the last of 2), a write when 5 are buffered: 6 -> 4 written, 2 kept; 5 -> 4, 1;
    # 7 -> 4, 3; 5 -> 4, 1; the last one at the end, which replaces s1-0, written before
    assert [(final, kept) for final, _, kept in writes["row groups"]] == [
        (False, 2), (False, 1), (False, 3), (False, 1), (True, 0)]
    assert [grown for _, grown, _ in writes["row groups"]] == [4, 4, 4, 4, 0]


def test_workers_give_the_same_results_in_order(workspace, tmp_path):
    rows = [dict(p, id=f"{p['id']}-{i}") for i in range(5) for p in POSTS]
    src = write_jsonl(tmp_path / "many.jsonl", rows)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    scan_paths(workspace, [src], out=one, workers=1, batch_size=3)
    scan_paths(workspace, [src], out=two, workers=2, batch_size=3)
    assert one.read_text(encoding="utf-8") == two.read_text(encoding="utf-8")
    assert [json.loads(line)["id"] for line in two.read_text(encoding="utf-8").splitlines()] == [r["id"] for r in rows]
    assert workspace.count("posts") == len(rows)


def test_fixture_file_accounting(workspace, tmp_path):
    report = scan_paths(workspace, [FIX / "posts.jsonl"], out=tmp_path / "o.jsonl")
    assert report.read.read == report.stored + report.quarantined
    assert report.quarantined >= 1
    assert workspace.count("posts") == report.stored
    assert workspace.count("quarantine") == report.quarantined


def test_threshold_and_bad_threshold(workspace, tmp_path):
    from narcotrace.errors import UserError

    src = write_jsonl(tmp_path / "in.jsonl", POSTS)
    report = scan_paths(workspace, [src], threshold=1.0)
    assert report.counts["none"] >= 3
    with pytest.raises(UserError, match="threshold"):
        scan_paths(workspace, [src], threshold=1.5)


def test_guess_langs_agrees_with_guess_lang():
    from narcotrace.online.scan import guess_langs

    texts = ["меф закладки алматы", "қазақша жазылған пост", "mef zakladki almaty", "меф mef mef", "", "12345 ₸",
             "ǅ İstanbul 𝔞𝔟 ёлка"]
    assert guess_langs(texts) == [guess_lang(t) for t in texts]
    assert guess_langs([]) == []


def test_guess_lang():
    assert guess_lang("меф в наличии") == "ru"
    assert guess_lang("тауар бар, жеткізу тегін") == "kk"
    assert guess_lang("plug back in stock, hit me up") == "en"
    assert guess_lang("курьеры нужны, good pay every week guaranteed") == "mixed"


def _failing_init(*args, **kwargs):
    raise RuntimeError("worker start-up failed")


def test_a_worker_that_cannot_start_stops_the_scan_with_a_clear_error(workspace, tmp_path, monkeypatch):
    # multiprocessing.Pool would start new workers forever and the scan would hang; the scan must stop
    import multiprocessing as mp

    from narcotrace.errors import UserError
    from narcotrace.online import scan

    monkeypatch.setattr(scan, "_init", _failing_init)
    monkeypatch.setattr(scan, "_worker_context", lambda: mp.get_context("fork"))  # children see the patch
    rows = [dict(p, id=f"{p['id']}-{i}") for i in range(3) for p in POSTS]
    src = write_jsonl(tmp_path / "many.jsonl", rows)
    with pytest.raises(UserError, match="scan worker process stopped"):
        scan_paths(workspace, [src], workers=2, batch_size=3, show_progress=False)


def test_a_scan_caps_duckdb_memory_and_restores_it_with_room_for_an_old_key_index(workspace, tmp_path):
    # DuckDB's cap during a scan leaves room for the scan's own memory. `posts` has no key index; a
    # workspace made before it lost its primary key keeps the index, which cannot spill: the cap then
    # grows with it, so that a big old workspace still scans
    from narcotrace.online import scan

    def limit() -> float:
        number, unit = workspace.con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()
        return float(number) * {"MiB": 1, "GiB": 1024, "KiB": 1 / 1024}[unit]

    def threads() -> int:
        return int(workspace.con.execute("SELECT current_setting('threads')").fetchone()[0])

    before, threads_before = limit(), threads()
    src = write_jsonl(tmp_path / "p.jsonl", POSTS)
    scan_paths(workspace, [src], show_progress=False)
    assert (limit(), threads()) == (before, threads_before)  # the scan wrote on one thread, then gave them back
    writer = scan._Writer(workspace, "v", None, scan.ScanReport(scan.ReadReport()))
    assert 240 <= limit() <= 280
    writer._stored = 30_000_000  # as if the workspace held 30 M posts
    writer._set_memory_limit()
    assert 240 <= limit() <= 280
    workspace.con.execute("ALTER TABLE posts ADD PRIMARY KEY (post_id)")  # as workspaces before 2026-11-23
    old = scan._Writer(workspace, "v", None, scan.ScanReport(scan.ReadReport()))
    old._stored = 30_000_000
    old._set_memory_limit()
    assert limit() >= 256 + 30_000_000 * 41 / 2**20
    scan_paths(workspace, [src], show_progress=False)  # and re-scanning into it still replaces the rows
    assert workspace.count("posts") == len(POSTS)


def test_repeated_texts_give_the_same_results_as_without_the_cache(workspace, tmp_path):
    # a shop's advert reposted under many ids (and again in later batches, in another worker) is
    # classified once per process; every copy gets exactly what an uncached scan gives it
    rows = [dict(p, id=f"{p['id']}-{i}") for i in range(12) for p in POSTS]
    src = write_jsonl(tmp_path / "reposts.jsonl", rows)
    outs = {}
    for cache in (0, None):
        for workers in (1, 2):
            out = tmp_path / f"out-{cache}-{workers}.jsonl"
            report = scan_paths(workspace, [src], out=out, workers=workers, batch_size=5, show_progress=False,
                                result_cache_bytes=cache)
            # with the cache, each process analyses each of the 4 texts at most twice (it keeps a text from its
            # second sighting on); without, each batch its own
            per_batch = sum(len({r["text"] for r in rows[i:i + 5]}) for i in range(0, len(rows), 5))
            if cache == 0:
                assert report.analysed == per_batch
            else:
                assert 4 <= report.analysed <= 2 * 4 * workers < per_batch
                assert "repeated a text already classified" in "\n".join(report.render())
            assert report.stored == len(rows)
            outs[cache, workers] = out.read_bytes()
            stored = workspace.con.execute(
                "SELECT p.post_id, p.label, p.score, p.explanation::VARCHAR, count(i.value) FROM posts p "
                "LEFT JOIN indicators i USING (post_id) GROUP BY ALL ORDER BY p.post_id").fetchall()
            assert len(stored) == len(rows)
            outs[cache, workers, "db"] = stored
    assert len(set(v for k, v in outs.items() if len(k) == 2)) == 1
    assert len(set(str(v) for k, v in outs.items() if len(k) == 3)) == 1
    lines = [json.loads(line) for line in outs[None, 2].decode().splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in rows]
    assert lines[0]["indicators"]["telegram"] == ["shop_kz_test"] and lines[0]["label"] == "sale"


def test_the_cache_does_not_serve_posts_whose_entities_add_indicators(workspace, tmp_path):
    # the same text, once plain and once with a Telegram text_link entity to another shop: the link's
    # handle belongs to the second post only
    from narcotrace.online import scan

    scan._init(None, [], None)
    text = POSTS[0]["text"]
    link = [{"type": "text_link", "text": "здесь", "href": "https://t.me/other_shop_kz"}]
    result = scan._process((["a", "b", "a"], ["src"] * 3, [text] * 3, {1: (link, [])}))  # as _payload gives it
    handles = [(pid, v) for pid, v, k in zip(result["indicators"]["post_id"], result["indicators"]["value"],
                                             result["indicators"]["kind"]) if k == "telegram"]
    assert ("b", "other_shop_kz") in handles
    assert ("a", "other_shop_kz") not in handles
    assert scan._STATE["cache"].hits == 1  # the second plain copy


def test_the_result_cache_stays_within_its_bytes():
    from narcotrace.online import scan

    scan._init(None, [], None, cache_bytes=64 << 10)
    cache = scan._STATE["cache"]
    batch = ([f"p{i}" for i in range(200)], ["src"] * 200, [f"{POSTS[i % 4]['text']} #{i}" for i in range(200)], {})
    scan._process(batch)
    assert cache.bytes == 0 and not cache.entries  # texts seen once are not kept
    first = scan._process(batch)
    assert 0 < cache.bytes <= 64 << 10 and len(cache.entries) < 200  # the oldest went
    again = scan._process(batch)  # what is still cached and what is not: the same answers
    assert again["lines"] == first["lines"]
    assert cache.hits > 0


def test_the_result_cache_keeps_texts_from_their_second_sighting_and_forgets_sightings_when_full(monkeypatch):
    from narcotrace.online import scan

    monkeypatch.setattr(scan._ResultCache, "SEEN_BITS", 64)
    cache = scan._ResultCache(1 << 20)
    keys = [scan._ResultCache.key(f"text {i}") for i in range(40)]
    assert [cache.seen_before(k) for k in keys[:3]] == [False] * 3
    assert [cache.seen_before(k) for k in keys[:3]] == [True] * 3
    for k in keys:  # more distinct texts than a quarter of the bits: the sightings are cleared on the way
        cache.seen_before(k)
    assert sum(bin(b).count("1") for b in cache._seen) <= 64 // 4
    assert not all(cache.seen_before(k) for k in keys[:3])


def test_a_batch_runs_without_the_cyclic_collector_and_restores_it(monkeypatch):
    import gc

    from narcotrace.online import scan

    scan._init(None, [], None, cache_bytes=0)
    seen = []
    real = scan._classify

    def spy(texts, extras):
        seen.append(gc.isenabled())
        return real(texts, extras)

    monkeypatch.setattr(scan, "_classify", spy)
    batch = ([f"p{i}" for i in range(4)], ["src"] * 4, [p["text"] for p in POSTS], {})
    assert gc.isenabled()
    out = scan._process(batch)
    assert seen == [False] and gc.isenabled()  # off inside the batch, on again after
    assert out["cols"]["label"][0] == "sale"
    gc.disable()  # a caller that had it off keeps it off
    try:
        scan._process(([f"q{i}" for i in range(4)], ["src"] * 4, [p["text"] + " !" for p in POSTS], {}))
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setattr(scan, "_classify", lambda texts, extras: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # and after a failing batch too
        scan._process(([f"r{i}" for i in range(4)], ["src"] * 4, [p["text"] + " ?" for p in POSTS], {}))
    assert gc.isenabled()


def test_a_worker_keeps_the_memory_a_batch_frees(monkeypatch):
    import platform
    import subprocess
    import sys

    from narcotrace.online import scan

    calls = []
    monkeypatch.setattr(scan, "keep_freed_memory", lambda: calls.append(1) or True)
    scan._init(None, [], None, cache_bytes=0)
    assert calls == []  # not in a process that goes on doing other work
    import gc

    threshold = gc.get_threshold()
    try:
        scan._init(None, [], None, worker=True, cache_bytes=0)
    finally:  # what a worker does to its collector, undone for the rest of the tests
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert calls == [1]
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        # in a fresh process: glibc takes the settings
        code = "from narcotrace.online.scan import keep_freed_memory as k; print(k())"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "True"


def test_a_pooled_scan_leaves_the_model_to_the_workers_and_stores_its_version(tmp_path):
    # the main process reads the shipped model's version from its card instead of loading scikit-learn and
    # the coefficients (~125 MiB): only the workers need them; the rows carry the version the workers loaded
    import subprocess
    import sys

    src = write_jsonl(tmp_path / "p.jsonl", [dict(p, id=f"{p['id']}-{i}") for i in range(3) for p in POSTS])
    code = f"""
import sys
from pathlib import Path
from narcotrace.workspace import Workspace
from narcotrace.online.scan import scan_paths
from narcotrace.online.classify import shipped_model_path
if __name__ == "__main__":
    ws = Workspace.open(Path({str(tmp_path / 'ws')!r}))
    report = scan_paths(ws, [{str(src)!r}], workers=2, batch_size=4, show_progress=False)
    versions = ws.con.execute("SELECT DISTINCT model_version FROM posts").fetchall()
    print("sklearn" in sys.modules, report.stored, versions == [(report.model_version,)],
          shipped_model_path().stem.endswith(report.model_version))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "12", "True", "True"]


def test_post_times_reach_the_table_as_pyarrow_would_convert_them():
    # dates and capture times go to Arrow through integers (pyarrow's own conversion was ~20x slower)
    from datetime import datetime, timedelta, timezone

    import pyarrow as pa

    from narcotrace.online.scan import _timestamps

    naive = [datetime(2026, 1, 1, 12, 0, 0, 123456), None, datetime(1969, 12, 31, 23, 59, 59, 999999),
             datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)]
    assert _timestamps(naive).equals(pa.array(naive, pa.timestamp("us")))
    aware = [datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5))), None]
    assert _timestamps(aware).to_pylist() == [datetime(2025, 12, 31, 19, 0), None]
    assert _timestamps([]).type == pa.timestamp("us")
