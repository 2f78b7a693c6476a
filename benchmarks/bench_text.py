"""Micro-benchmark of the online text core per post: normalise, lexicon match, indicator extraction.

Rates are per CPU-second of one process (time.process_time), so other work on a shared machine
disturbs them less than wall-clock timing would; one core runs one such process. Runs on a generated mix of short posts (plain Russian, Kazakh and English, obfuscated ones, posts with
contacts and payment details, news and other hard negatives) and compares with a naive baseline: a Python
loop of one regex per lexicon term plus simple indicator regexes. Prints posts/s for each stage.

    .venv/bin/python benchmarks/bench_text.py [--posts 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import statistics
import time

from narcotrace import codecs
from narcotrace.online.indicators import crypto, extract, phones, web
from narcotrace.online.lexicon import Lexicon
from narcotrace.online.normalize import normalize

PLAIN = [
    "Привет всем! Сегодня в нашем магазине новое поступление, доставка по городу {city}. Работаем ежедневно "
    "с 9 до 21 часа, без выходных. Звоните {phone}.",
    "Свежие новости: в {city} полиция задержала курьера, изъято 200 г мефедрона, возбуждено уголовное дело.",
    "Продаю фен для волос Philips, почти новый, цена 15 000 тг, самовывоз из центра {city}.",
    "Сатылады: балалар киімі, жеткізу қала бойынша, бағасы 5000 тг. Хабарласыңыз {phone}",
    "Hello guys, we just restocked our menu with fresh kush and carts, dm me on telegram for prices, "
    "same day delivery in the city.",
    "Weather update for {city}: heavy snow expected tonight, roads will be slippery, drive carefully.",
    "Требуются курьеры в Яндекс Доставку, официальное трудоустройство, соцпакет, график 5/2.",
    "Поваренная соль 1 кг, морская соль и соль для ванн в наличии, доставка по городу.",
]
OBFUSCATED = [
    "Пр0дам с0ль и m3f, 3акладки в наличии 1г - 15000тг ❄️💎 м.е.ф к л а д, пиши {handle}, мееееф",
    "zakladki shishki mef v {city}, kladmen nuzhen, pishi {handle}",
    "МEФ KРИCТAЛЛЫ 🚀 за\u200bкладки маг\u200bнит прикоп, оплата на карту {card} или {btc}",
    "Ищем кладменов и курьеров, з/п от 500 000 тг в неделю, без залога, пиши t . me / {bare}",
    "ｍｅｆ 𝐜𝐨𝐤𝐞 🍁🍄💊 plug in {city}, wickr / tg {handle}, pay {eth}",
]
CITIES = ["Алматы", "Астана", "Шымкент", "Караганда", "Актобе"]


def make_posts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    posts = []
    for i in range(n):
        digits = "440043" + f"{rnd.randrange(10**9):09d}"
        card = digits + codecs.luhn_check_digit(digits)
        bare = f"shop_{rnd.randrange(1000)}"
        fill = {
            "city": rnd.choice(CITIES),
            "phone": f"+7 70{rnd.randrange(10)} {rnd.randrange(100, 999)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)}",
            "handle": "@" + bare,
            "bare": bare,
            "card": " ".join(card[j:j + 4] for j in range(0, 16, 4)),
            "btc": codecs.b58check_encode(b"\x00" + hashlib.sha256(str(i).encode()).digest()[:20]),
            "eth": codecs.eip55(hashlib.sha256(str(i).encode()).hexdigest()[:40]),
        }
        pool = OBFUSCATED if rnd.random() < 0.3 else PLAIN
        posts.append(rnd.choice(pool).format(**fill))
    return posts


# ---- the naive baseline ----------------------------------------------------------------------------


def naive_matchers(lex: Lexicon) -> list[re.Pattern[str]]:
    out = []
    for t in lex.terms:
        if t.regex is not None:
            out.append(re.compile(t.regex))
        else:
            assert t.term is not None
            body = r"\s+".join(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) + r"\b"
                               for w in t.term.split(" "))
            out.append(re.compile(r"\b" + body))
    return out


NAIVE_INDICATORS = [re.compile(p) for p in (
    r"https?://\S+", r"[\w.+-]+@[\w-]+\.[\w.]+", r"@[A-Za-z]\w{3,31}", r"t\.me/\w+", r"\b(?:\d[ -]?){15}\d\b",
    r"\+?\d[\d\s()-]{9,16}\d", r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b", r"\b0x[0-9a-fA-F]{40}\b",
    r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b", r"\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b")]


def naive(post: str, matchers: list[re.Pattern[str]]) -> int:
    low = post.lower()
    hits = 0
    for rx in matchers:
        for _ in rx.finditer(low):
            hits += 1
    for rx in NAIVE_INDICATORS:
        for _ in rx.finditer(post):
            hits += 1
    return hits


def cold_caches() -> None:
    """Forget cached phone, domain and wallet validations: the generated posts repeat them more than life."""
    for fn in (phones._plus7, phones._matched_numbers, web.registered_domain, crypto.classify):
        fn.cache_clear()


def rate(fn, items, repeat: int) -> float:
    """Best-of-`repeat` posts per CPU-second of this process (the machine is shared; wall time is not ours)."""
    best = []
    for _ in range(repeat):
        cold_caches()
        t = time.process_time()
        for x in items:
            fn(x)
        best.append(len(items) / max(time.process_time() - t, 1e-9))
    return max(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    posts = make_posts(args.posts)
    t = time.perf_counter()
    lex = Lexicon.load()
    load_s = time.perf_counter() - t
    norms = [normalize(p) for p in posts]
    obf = sum(1 for n in norms if n.flags) / len(norms)
    print(f"posts: {len(posts)}  mean length: {statistics.mean(map(len, posts)):.0f} chars  "
          f"with evasion flags: {obf:.0%}  lexicon: {len(lex)} terms, loaded in {load_s:.2f} s")
    r_norm = rate(normalize, posts, args.repeat)
    r_match = rate(lex.match, norms, args.repeat)
    r_extract = rate(extract, posts, args.repeat)

    def pipeline(p: str) -> None:
        lex.match(normalize(p))
        extract(p)

    r_all = rate(pipeline, posts, args.repeat)
    matchers = naive_matchers(lex)
    sample = posts[: max(200, len(posts) // 20)]
    r_naive = rate(lambda p: naive(p, matchers), sample, 1)
    for name, r in [("normalize", r_norm), ("lexicon match", r_match), ("extract indicators", r_extract),
                    ("normalize+match+extract", r_all), ("naive regex loop", r_naive)]:
        print(f"{name:26s} {r:10,.0f} posts/s   {1e6 / r:8.1f} µs/post")
    print(f"speed-up over the naive loop: {r_all / r_naive:.1f}x")


if __name__ == "__main__":
    main()
