"""A small hand-made workspace with two drug channels, their posts (some hostile HTML), indicators, accounts,
alerts, decisions and transfers: what the exports and the report are tested on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

T0 = datetime(2026, 3, 1, 10, 0)
A, B = "ch-aaaaaaaaaaaa", "ch-bbbbbbbbbbbb"
A_DROP, A_DROP_CARD = "KZ01A0000000000000D1", "4400430000000011"
A_COLLECTOR, EXCHANGER, ATM = "KZ01A000000000000KA1", "KZ01EX00000000000001", "cash:atm-almaty-0001"
B_DROP, B_DROP_PHONE = "KZ01B0000000000000D1", "+77011110002"
B_COLLECTOR, ABROAD = "KZ01B000000000000KB1", "GE15TB0935699532507038"
BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
TRON = "TSjfyvQaP5WNiwUtseXJYQovwDrjU5tRg8"
# if any of this ran in the report, the page's <body> would get a data-pwned attribute
HOSTILE = ('<script>document.body.setAttribute("data-pwned", "1")</script>'
           '<img src=x onerror="document.body.setAttribute(\'data-pwned\', \'2\')"></textarea>')
BUYERS = [f"KZ01BUYER{i:011d}" for i in range(12)]
LAUNDERER = "KZ01LD00000000000001"


def _posts() -> list[tuple]:
    """(post_id, label, score, date, chat, url, text, [(canonical id, kind, value)])."""
    rows = []
    for i in range(4):
        text = (f"Снежный Лис ❄️ меф 1г 20000 Алматы, клад магнит. Пиши @snowfox_kz или бот @snowfox_bot. "
                f"Карта {A_DROP_CARD} BTC {BTC} сайт snowfox.kz")
        if i == 1:
            text += " " + HOSTILE
        rows.append((f"a{i}", "sale", 0.97 - i * 0.01, T0 + timedelta(days=i), "Snow Fox",
                     f"https://t.me/snowfox_channel/{i + 1}", text,
                     [("telegram:snowfox_kz", "telegram", "snowfox_kz"), ("telegram:snowfox_bot", "telegram", "snowfox_bot"),
                      (f"card:{A_DROP_CARD}", "card", A_DROP_CARD), (f"btc:{BTC}", "crypto", BTC),
                      ("domain:snowfox.kz", "domain", "snowfox.kz")]))
    rows.append(("a-rec", "recruitment", 0.91, T0 + timedelta(days=2), "Работа Алматы", None,
                 "Нужны курьеры-закладчики, 30000 в день, пиши @snowfox_kz", [("telegram:snowfox_kz", "telegram", "snowfox_kz")]))
    for i in range(3):
        rows.append((f"b{i}", "sale", 0.9, T0 + timedelta(days=i * 2), "Барахолка Астаны", None,
                     f"Шишки 3г 30000 Астана, перевод на {B_DROP_PHONE}, TRC20 {TRON}, @darkroom_ast",
                     [("telegram:darkroom_ast", "telegram", "darkroom_ast"), (f"phone:{B_DROP_PHONE}", "phone", B_DROP_PHONE),
                      (f"tron:{TRON}", "crypto", TRON)]))
    rows.append(("x-rejected", "sale", 0.6, T0, "Барахолка Астаны", None, "Соль для ванн 1кг, @bathsalt_kz",
                 [("telegram:bathsalt_kz", "telegram", "bathsalt_kz")]))
    rows.append(("n1", "none", 0.02, T0, "Новости", None, "Погода в Астане", []))
    return rows


def _explanation(text: str) -> str:
    out = []
    for word, feature in (("меф", "lexicon: меф (drug, mephedrone)"), ("клад", "lexicon: клад (sale)"),
                          ("Шишки", "lexicon: шишки (drug, cannabis)"), ("курьеры", "lexicon: курьер* (recruitment)")):
        at = text.find(word)
        if at >= 0:
            out.append({"feature": feature, "weight": 1.2, "span": [at, at + len(word)], "text": word})
    return json.dumps(out, ensure_ascii=False)


def _transfers() -> list[tuple]:
    rows: list[tuple] = []

    def pay(src: str, dst: str, ts: datetime, amount: float, channel: str) -> str:
        tid = f"t{len(rows) + 1:04d}"
        rows.append((tid, ts, src, dst, amount, channel))
        return tid

    for i in range(4):
        for k in range(2):
            pay(BUYERS[(2 * i + k) % 6], A_DROP, T0 + timedelta(days=i, hours=2 + k), 20_000 + 1_000 * k, "card_p2p")
        pay(A_DROP, A_COLLECTOR, T0 + timedelta(days=i, hours=20), 40_000, "card_p2p")
        pay(A_COLLECTOR, EXCHANGER, T0 + timedelta(days=i + 1, hours=3), 30_000, "card_p2p")
        pay(A_COLLECTOR, ATM, T0 + timedelta(days=i + 1, hours=4), 10_000, "atm_withdrawal")
    for i in range(3):
        for k in range(2):
            pay(BUYERS[6 + (2 * i + k) % 6], B_DROP, T0 + timedelta(days=2 * i, hours=1 + k), 30_000, "phone_p2p")
        pay(B_DROP, B_COLLECTOR, T0 + timedelta(days=2 * i, hours=15), 58_000, "phone_p2p")
        pay(B_COLLECTOR, ABROAD, T0 + timedelta(days=2 * i + 1), 55_000, "swift")
    pay(BUYERS[0], LAUNDERER, T0 + timedelta(days=5), 900_000, "card_p2p")
    return rows


def build_world(ws) -> dict[str, list[str]]:
    """Fill `ws`; returns the transfer ids by kind ('payments_a', 'forwards_a', ...)."""
    con = ws.con
    for pid, label, score, date, chat, url, text, idents in _posts():
        con.execute("INSERT INTO posts (post_id, source_format, source, source_row, captured_at, sha256, channel, "
                    "author, date, url, text, lang, score, label, categories, explanation, model_version, scanned_at) "
                    "VALUES (?, 'jsonl', 'posts.jsonl', ?, ?, ?, ?, ?, ?, ?, ?, 'ru', ?, ?, ?, ?, 'test-1', ?)",
                    [pid, len(pid), T0 + timedelta(days=10), "ab" * 32, chat, None, date, url, text, score, label,
                     ["mephedrone"] if label == "sale" else [], _explanation(text), T0 + timedelta(days=10)])
        for cid, kind, value in idents:
            at = text.find(value)
            con.execute("INSERT INTO indicators (post_id, kind, value, canonical_id, chain, span_start, span_end, "
                        "details, extractor_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'test')",
                        [pid, kind, value, cid, cid.split(":")[0] if kind == "crypto" else None,
                         at if at >= 0 else None, at + len(value) if at >= 0 else None,
                         json.dumps({"is_bot": value.endswith("bot")})])
    accounts = [(A_DROP, "bank", "kaspi", "KZ", "p1", "Иван Дропов", "person", A_DROP_CARD, None),
                (A_COLLECTOR, "bank", "halyk", "KZ", "p2", "Пётр Сборщиков", "person", None, None),
                (EXCHANGER, "exchanger", "kaspi", "KZ", "b1", "ТОО Обмен", "business", None, None),
                (ATM, "cash", "kaspi", "KZ", None, None, "atm", None, None),
                (B_DROP, "bank", "kaspi", "KZ", "p3", "Айгуль Телефонова", "person", None, B_DROP_PHONE),
                (B_COLLECTOR, "bank", "bcc", "KZ", "p4", None, None, None, None),
                (ABROAD, "foreign", "tbc", "GE", "b2", "Foreign LLC", "business", None, None),
                (f"tron:{TRON}", "wallet", "tron", None, None, None, None, None, None),
                (LAUNDERER, "bank", "kaspi", "KZ", "p5", "Лаундер", "person", None, None)]
    accounts += [(b, "bank", "kaspi", "KZ", f"buyer{i}", f"Покупатель {i}", "person", None, None)
                 for i, b in enumerate(BUYERS)]
    for acc, kind, bank, country, hid, hname, hkind, card, phone in accounts:
        con.execute("INSERT INTO accounts (account_id, kind, bank, country, holder_id, holder_name, holder_kind, card, "
                    "phone, currency, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'KZT', ?)",
                    [acc, kind, bank, country, hid, hname, hkind, card, phone,
                     TRON if acc.startswith("tron:") else None])
    con.execute("INSERT INTO account_identifiers VALUES (?, ?, 'card', 'test')", [f"card:{A_DROP_CARD}", A_DROP])
    con.execute("INSERT INTO account_identifiers VALUES (?, ?, 'phone', 'test')", [f"phone:{B_DROP_PHONE}", B_DROP])
    rows = _transfers()
    for tid, ts, src, dst, amount, channel in rows:
        con.execute("INSERT INTO transfers (transfer_id, timestamp, from_account, to_account, amount, currency, "
                    "amount_base, channel) VALUES (?, ?, ?, ?, ?, 'KZT', ?, ?)", [tid, ts, src, dst, amount, amount, channel])
    ids = {
        "payments_a": [t for t, _, _, d, _, _ in rows if d == A_DROP],
        "forwards_a": [t for t, _, s, d, _, _ in rows if s == A_DROP or s == A_COLLECTOR],
        "payments_b": [t for t, _, _, d, _, _ in rows if d == B_DROP],
        "forwards_b": [t for t, _, s, _, _, _ in rows if s in (B_DROP, B_COLLECTOR)],
        "laundering": [t for t, _, _, d, _, _ in rows if d == LAUNDERER],
    }
    now = T0 + timedelta(days=11)
    for aid, acc, score, role, status, evidence in [
            ("AL-a", A_DROP, 0.93, "drop", "confirmed", ids["payments_a"]),
            ("AL-b", B_DROP, 0.88, "drop", "new", ids["payments_b"]),
            ("AL-l", LAUNDERER, 0.7, "laundering", "new", ids["laundering"]),
            ("AL-d", BUYERS[3], 0.55, "drop", "dismissed", [])]:
        con.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, 'rules-1', ?, ?, ?, ?, ?)",
                    [aid, acc, score, role, ["fan_in", "rapid_pass_through"], [f"{role}: many small payers"], evidence,
                     status, now, now, "analyst" if status != "new" else "system", "checked" if status != "new" else ""])
    channels = [(A, "Snow Fox <b>", 0.97, 168_000.0, T0, T0 + timedelta(days=4), ["Almaty"], 5, 4),
                (B, "Darkroom", 0.9, 180_000.0, T0, T0 + timedelta(days=5), ["Astana"], 3, 4)]
    for cid, name, conf, vol, first, last, cities, n_posts, n_acc in channels:
        con.execute("INSERT INTO channels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'test')",
                    [cid, name, conf, vol, first, last, cities, n_posts, n_acc, now])
    members = [(A, "post", p, "sale", None, None, None) for p in ("a0", "a1", "a2", "a3")]
    members += [(A, "post", "a-rec", "recruitment", None, None, None)]
    members += [(A, "indicator", i, i.split(":")[0], None, None, None) for i in
                ("telegram:snowfox_kz", "telegram:snowfox_bot", f"card:{A_DROP_CARD}", f"btc:{BTC}", "domain:snowfox.kz")]
    members += [(A, "account", A_DROP, "drop", 1.0, 168_000.0, {"post_ids": ["a0", "a1"], "payment_ids": ids["payments_a"]}),
                (A, "account", A_COLLECTOR, "collector", 0.9, 160_000.0, {"transfer_ids": ids["forwards_a"]}),
                (A, "account", EXCHANGER, "exchanger", 0.8, 120_000.0, {}),
                (A, "account", ATM, "cash_out", 0.8, 40_000.0, {})]
    members += [(B, "post", p, "sale", None, None, None) for p in ("b0", "b1", "b2")]
    members += [(B, "indicator", i, i.split(":")[0], None, None, None) for i in
                ("telegram:darkroom_ast", f"phone:{B_DROP_PHONE}", f"tron:{TRON}")]
    members += [(B, "account", B_DROP, "drop", 1.0, 180_000.0, {"payment_ids": ids["payments_b"]}),
                (B, "account", f"tron:{TRON}", "wallet", 0.9, 0.0, {}),
                (B, "account", B_COLLECTOR, "collector", 0.9, 174_000.0, {"transfer_ids": ids["forwards_b"]}),
                (B, "account", ABROAD, "cash_out", 0.8, 165_000.0, {})]
    for cid, kind, mid, role, score, volume, evidence in members:
        con.execute("INSERT INTO channel_members VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [cid, kind, mid, role, score, volume, json.dumps(evidence) if evidence is not None else None])
    for did, kind, target, decision in [("d1", "post", "a0", "approve"), ("d2", "post", "x-rejected", "reject")]:
        con.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, NULL, 'test', 'analyst', ?)",
                    [did, kind, target, decision, now])
    return ids
