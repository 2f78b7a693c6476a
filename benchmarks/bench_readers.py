"""Throughput and memory of the post readers (online/sources): JSONL, CSV (cp1251), Telegram exports
(one chat and a whole account), HTML pages and a WARC, on generated files in a temporary folder.

Rates are posts per CPU-second of this process (time.process_time), so a busy shared machine disturbs
them less than wall-clock time; the peak resident memory is sampled with psutil while reading.

    .venv/bin/python benchmarks/bench_readers.py [--posts 100000] [--pages 2000]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import threading
import time
from pathlib import Path

import psutil
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from narcotrace.online.sources import RawPost, ReadReport, read_posts

TEXT = "Мефедрон 1г 15000 тг, закладки по Алматы, оператор @shop_{i}, оплата на карту 4111 1111 1111 1111"


def _message(i: int) -> dict:
    runs = [{"type": "plain", "text": "Мефедрон 1г, оператор "}, {"type": "mention", "text": f"@shop_{i}"},
            {"type": "plain", "text": ", оплата на "}, {"type": "bank_card", "text": "4111 1111 1111 1111"}]
    return {"id": i, "type": "message", "date": "2026-10-01T12:00:00", "date_unixtime": str(1790000000 + i),
            "from": "Shop", "from_id": "channel1", "text": [r if r["type"] != "plain" else r["text"] for r in runs],
            "text_entities": runs}


def make_files(folder: Path, n: int, pages: int) -> dict[str, Path]:
    files = {}
    p = files["jsonl"] = folder / "posts.jsonl"
    with open(p, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"p{i}", "text": TEXT.format(i=i), "date": "2026-10-01T12:00:00Z",
                                "channel": "shop"}, ensure_ascii=False) + "\n")
    p = files["csv (cp1251)"] = folder / "posts.csv"
    with open(p, "w", encoding="cp1251", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["id", "text", "date"])
        for i in range(n):
            w.writerow([f"p{i}", TEXT.format(i=i), "01.10.2026 12:00"])
    p = files["telegram (one chat)"] = folder / "chat.json"
    with open(p, "w", encoding="utf-8") as f:
        json.dump({"name": "Shop", "type": "public_channel", "id": 1, "messages": [_message(i) for i in range(n)]},
                  f, ensure_ascii=False, indent=1)
    p = files["telegram (account, 50 chats)"] = folder / "account.json"
    per = max(1, n // 50)
    with open(p, "w", encoding="utf-8") as f:
        json.dump({"personal_information": {"user_id": 1}, "chats": {"about": "", "list": [
            {"name": f"chat {c}", "type": "private_group", "id": c,
             "messages": [_message(c * per + i) for i in range(per)]} for c in range(50)]}},
                  f, ensure_ascii=False, indent=1)
    html_dir = folder / "site"
    html_dir.mkdir()
    page = ("<html><head><title>Shop {i}</title><style>.a{{}}</style><script>x()</script></head><body>"
            + "<div><p>" + TEXT + "</p><a href='/p{i}.html'>next</a></div>" * 20 + "</body></html>")
    for i in range(pages):
        (html_dir / f"p{i}.html").write_text(page.format(i=i), encoding="utf-8")
    files["html folder"] = html_dir
    p = files["warc.gz"] = folder / "crawl.warc.gz"
    with open(p, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i in range(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://shop.example.kz/p{i}.html", "response", payload=io.BytesIO(page.format(i=i).encode()),
                http_headers=headers))
    return files


def measure(path: Path) -> tuple[int, float, float, int]:
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    report = ReadReport()
    cpu, wall = time.process_time(), time.perf_counter()
    n = sum(1 for item in read_posts([path], report=report) if isinstance(item, RawPost))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done.set()
    t.join()
    return n, cpu, wall, peak[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=2_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.posts, args.pages)
        print(f"{'reader':<30} {'posts':>9} {'MB':>8} {'posts/cpu-s':>12} {'MB/cpu-s':>9} {'peak RSS MB':>12}")
        for name, path in files.items():
            size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
            n, cpu, _, peak = measure(path)
            print(f"{name:<30} {n:>9,} {size / 1e6:>8.1f} {n / cpu:>12,.0f} {size / 1e6 / cpu:>9.1f} "
                  f"{peak / 2**20:>12.0f}")


if __name__ == "__main__":
    main()
