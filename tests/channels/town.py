"""A small hand-made town whose drug channels are known: two shops, a popular exchanger both name, a
marketplace phone in many ordinary posts, a shop whose drops rotate, buyers, friends and a landlord."""

from __future__ import annotations

from datetime import datetime, timedelta

T0 = datetime(2026, 3, 1, 10, 0)

# Shop A ("Snow Fox", @snowfox_kz, bot @snowfox_bot): drops rotate from card A1 (days 0-4) to phone A2
# (days 4-9); collector KA forwards to the exchanger's KZT account and to an ATM.
A_DROP1, A_CARD1 = "KZ01A0000000000000D1", "4400430000000011"
A_DROP2, A_PHONE2 = "KZ01A0000000000000D2", "+77011110002"
A_COLLECTOR = "KZ01A000000000000KA1"
# Shop B ("@darkroom_ast"): one drop card, a collector that sends money abroad.
B_DROP, B_CARD = "KZ01B0000000000000D1", "4400430000000029"
B_COLLECTOR = "KZ01B000000000000KB1"
EXCHANGER, EXCHANGER_CARD = "KZ01EX00000000000001", "4400430000000037"
ATM = "cash:atm-kaspi-almaty-00001"
ABROAD = "GE15TB0935699532507038"
MARKET_PHONE, MARKET_ACCOUNT = "+77015550000", "KZ01MK00000000000001"
FRIEND, LANDLORD_TENANT = "KZ01FR00000000000001", "KZ01TN00000000000001"


def _posts() -> list[tuple]:
    """(post_id, label, score, date, channel, url, text, [canonical ids])."""
    posts = []
    for i in range(8):  # shop A: first card A1, then phone A2; every ad names the handle or the bot
        day = i * 1.2
        drop = f"card:{A_CARD1}" if day < 4 else f"phone:{A_PHONE2}"
        idents = [drop, "telegram:snowfox_kz" if i % 2 == 0 else "telegram:snowfox_bot"]
        if i in (1, 5):
            idents.append("telegram:obmen_usdt_kz")  # the popular exchanger, now and then
        if i == 3:
            idents.append(f"phone:{MARKET_PHONE}")  # the marketplace's phone in one ad
        posts.append((f"a{i}", "sale", 0.95, T0 + timedelta(days=day), "Snow Fox",
                      f"https://t.me/snowfox_channel/{i + 1}", f"Меф 1г 20000, Алматы, клад. {' '.join(idents)}",
                      idents))
    posts.append(("a-rec", "recruitment", 0.9, T0 + timedelta(days=2), "Работа Алматы", None,
                  "Курьеры, 30000 в день, пиши @snowfox_kz", ["telegram:snowfox_kz"]))
    for i in range(6):  # shop B
        idents = [f"card:{B_CARD}", "telegram:darkroom_ast"]
        if i in (0, 4):
            idents.append("telegram:obmen_usdt_kz")
        if i == 2:
            idents.append(f"phone:{MARKET_PHONE}")
        if i == 1:
            idents.append(f"card:{EXCHANGER_CARD}")  # "pay through the exchanger"
        posts.append((f"b{i}", "sale", 0.9, T0 + timedelta(days=i * 1.5), "Барахолка Астаны", None,
                      f"Шишки 3г 30000 Астана. {' '.join(idents)}", idents))
    for i in range(5):  # ordinary posts naming the marketplace's phone
        posts.append((f"m{i}", "none", 0.02, T0 + timedelta(days=i), "Барахолка Астаны", None,
                      f"Продам диван, звоните {MARKET_PHONE}", [f"phone:{MARKET_PHONE}"]))
    posts.append(("n1", "none", 0.01, T0, "Новости", None, "Погода в Астане", []))
    # one of shop A's ads the classifier doubted (none, 0.4) joins it by its handle; the news does not
    posts.append(("a-doubt", "none", 0.4, T0 + timedelta(days=3), "Чат Алматы", None,
                  "Шишки есть, пиши @snowfox_kz", ["telegram:snowfox_kz"]))
    posts.append(("news1", "none", 0.05, T0 + timedelta(days=6), "Новости", None,
                  "Полиция заблокировала канал @snowfox_kz", ["telegram:snowfox_kz"]))
    return posts


def _accounts() -> list[tuple]:
    """(account_id, kind, holder_kind, country, card, phone)."""
    rows = [
        (A_DROP1, "bank", "person", "KZ", A_CARD1, None),
        (A_DROP2, "bank", "person", "KZ", None, A_PHONE2),
        (A_COLLECTOR, "bank", "person", "KZ", None, None),
        (B_DROP, "bank", "person", "KZ", B_CARD, None),
        (B_COLLECTOR, "bank", "person", "KZ", None, None),
        (EXCHANGER, "exchanger", "business", "KZ", EXCHANGER_CARD, None),
        (ATM, "cash", "atm", None, None, None),
        (ABROAD, "foreign", "business", "GE", None, None),
        (MARKET_ACCOUNT, "bank", "business", "KZ", None, MARKET_PHONE),
        (FRIEND, "bank", "person", "KZ", None, None),
        (LANDLORD_TENANT, "bank", "person", "KZ", None, None),
    ]
    rows += [(f"KZ01BUYER{i:011d}", "bank", "person", "KZ", None, None) for i in range(40)]
    return rows


def _transfers() -> tuple[list[tuple], dict[str, float]]:
    """(transfer_id, timestamp, from, to, amount, channel) and the true drug money per shop."""
    rows: list[tuple] = []
    truth = {"A": 0.0, "B": 0.0}

    def pay(src: str, dst: str, ts: datetime, amount: float, channel: str) -> None:
        rows.append((f"t{len(rows) + 1:05d}", ts, src, dst, amount, channel))

    buyers = [f"KZ01BUYER{i:011d}" for i in range(40)]
    # shop A: buyers pay 2-20 h after an ad, to the drop it names
    for i in range(8):
        day = i * 1.2
        drop, chan = (A_DROP1, "card_p2p") if day < 4 else (A_DROP2, "phone_p2p")
        for k in range(3):
            amount = 20_000 + 1_000 * k
            pay(buyers[(i * 3 + k) % 20], drop, T0 + timedelta(days=day, hours=2 + 6 * k), amount, chan)
            truth["A"] += amount
        # the drop forwards what it got, minus 2 %, a day after the ad
        pay(drop, A_COLLECTOR, T0 + timedelta(days=day, hours=20), round(63_000 * 0.98, -2), "card_p2p")
    # collector A: a day later, most to the exchanger, some cash at the ATM
    for i in range(8):
        day = i * 1.2
        pay(A_COLLECTOR, EXCHANGER, T0 + timedelta(days=day + 1, hours=4), 40_000, "card_p2p")
        pay(A_COLLECTOR, ATM, T0 + timedelta(days=day + 1, hours=5), 20_000, "atm_withdrawal")
    # shop B
    for i in range(6):
        for k in range(4):
            amount = 30_000 + 500 * k
            pay(buyers[20 + (i * 4 + k) % 20], B_DROP, T0 + timedelta(days=i * 1.5, hours=1 + 3 * k), amount, "card_p2p")
            truth["B"] += amount
        pay(B_DROP, B_COLLECTOR, T0 + timedelta(days=i * 1.5, hours=15), 118_000, "phone_p2p")
        pay(B_COLLECTOR, ABROAD, T0 + timedelta(days=i * 1.5, hours=30), 110_000, "swift")
    # noise the builder must not count as drug money
    pay(FRIEND, A_DROP1, T0 + timedelta(hours=5), 7_000, "card_p2p")  # a friend inside an ad window ...
    pay(A_DROP1, FRIEND, T0 + timedelta(days=12), 5_000, "card_p2p")  # ... who also gets money back
    pay(LANDLORD_TENANT, B_DROP, T0 - timedelta(days=30), 250_000, "card_p2p")  # rent last month ...
    pay(LANDLORD_TENANT, B_DROP, T0 + timedelta(hours=20), 250_000, "card_p2p")  # ... and this month: a contact
    pay(buyers[30], B_DROP, T0 + timedelta(days=3, hours=2), 900_000, "card_p2p")  # a used car: too big to be a buy
    pay(buyers[3], B_DROP, T0 + timedelta(days=20), 10_000, "card_p2p")  # long after any ad
    pay(buyers[5], MARKET_ACCOUNT, T0 + timedelta(days=3, hours=1), 15_000, "phone_p2p")  # buys a sofa
    return rows, truth


def build_town(ws) -> dict[str, float]:
    """Fill `ws` with the town; returns the true drug money per shop ("A", "B")."""
    con = ws.con
    for post_id, label, score, date, chat, url, text, idents in _posts():
        con.execute("INSERT INTO posts (post_id, label, score, date, channel, url, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [post_id, label, score, date, chat, url, text])
        for ident in idents:
            kind = ident.split(":", 1)[0]
            con.execute("INSERT INTO indicators (post_id, kind, value, canonical_id) VALUES (?, ?, ?, ?)",
                        [post_id, kind, ident.split(":", 1)[1], ident])
    for account_id, kind, holder_kind, country, card, phone in _accounts():
        con.execute("INSERT INTO accounts (account_id, kind, holder_kind, country, card, phone) VALUES (?, ?, ?, ?, ?, ?)",
                    [account_id, kind, holder_kind, country, card, phone])
        if card:
            con.execute("INSERT INTO account_identifiers VALUES (?, ?, 'card', 'test')", [f"card:{card}", account_id])
        if phone:
            con.execute("INSERT INTO account_identifiers VALUES (?, ?, 'phone', 'test')", [f"phone:{phone}", account_id])
    rows, truth = _transfers()
    for tid, ts, src, dst, amount, channel in rows:
        con.execute("INSERT INTO transfers (transfer_id, timestamp, from_account, to_account, amount, currency, "
                    "amount_base, channel) VALUES (?, ?, ?, ?, ?, 'KZT', ?, ?)", [tid, ts, src, dst, amount, amount, channel])
    return truth
