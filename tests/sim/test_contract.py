"""The world's output contract: files and columns other tools read, and the summary counts."""

from __future__ import annotations

import pyarrow.parquet as pq

from narcotrace.sim.flows import PATTERNS

TRANSFERS = ["transfer_id", "timestamp", "from_account", "to_account", "from_bank", "to_bank", "amount", "currency",
             "amount_base", "channel", "description", "to_card", "to_phone"]
# what the payer typed on card and phone transfers: ingest makes account identifiers of them, not columns
TYPED = ["to_card", "to_phone"]
ACCOUNTS = ["account_id", "kind", "bank", "country", "holder_id", "holder_name", "holder_kind", "card", "phone",
            "iban", "address", "currency", "opened_at", "opening_balance", "overdraft_limit"]
TRUTH = {
    "truth/accounts": ["account_id", "role", "channel_id", "channel_ids", "pattern", "pattern_ids", "lookalike",
                       "is_buyer", "holder_id", "kind"],
    "truth/transfers": ["transfer_id", "is_drug", "is_laundering", "activity", "leg", "pattern", "pattern_id",
                        "channel_id", "post_id"],
    "truth/channels": ["channel_id", "brand", "handles", "bots", "domain", "onion", "cities", "drugs", "drop_accounts",
                       "drop_cards", "drop_phones", "collector_accounts", "exchanger_accounts", "cash_out_accounts",
                       "foreign_accounts", "wallets", "first_seen", "last_seen", "drug_volume_kzt"],
    "truth/drop_spells": ["channel_id", "account_id", "card", "phone", "start", "end"],
}


def test_every_contract_file_is_written(small_world):
    out, _ = small_world
    for rel in ["posts.jsonl", "telegram/result.json", "accounts.parquet", "transfers.parquet", "truth/posts.parquet",
                "truth/accounts.parquet", "truth/transfers.parquet", "truth/indicators.parquet",
                "truth/channels.parquet"]:
        assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel


def test_columns(small_world):
    out, _ = small_world
    assert pq.read_schema(out / "transfers.parquet").names == TRANSFERS
    assert pq.read_schema(out / "accounts.parquet").names == ACCOUNTS
    for rel, cols in TRUTH.items():
        names = pq.read_schema(out / f"{rel}.parquet").names
        assert set(cols) <= set(names), (rel, set(cols) - set(names))


def test_transfer_columns_match_the_canonical_table(small_world):
    from narcotrace.tables import get

    out, _ = small_world
    canonical = get("transfers").column_names
    names = pq.read_schema(out / "transfers.parquet").names
    # every column we write is a canonical one, in the canonical order (provenance is the reader's job),
    # then the typed card and phone
    assert names[:-2] == [c for c in canonical if c in names] == TRANSFERS[:-2]
    assert names[-2:] == TYPED


def test_csv_copies(small_world, con):
    out, _ = small_world
    for rel in ["accounts", "transfers", "truth/accounts", "truth/transfers", "truth/channels"]:
        assert (out / f"{rel}.csv").is_file(), rel
    n_csv = con.execute(f"SELECT count(*) FROM read_csv_auto('{out / 'transfers.csv'}')").fetchone()[0]
    assert n_csv == con.execute("SELECT count(*) FROM t").fetchone()[0]


def test_small_world_has_shops_drops_and_every_shape(small_world, con):
    _, summary = small_world
    c = summary.counts
    assert c["shops"] >= 3 and c["drops"] >= 3 * 2 and c["collectors"] >= 3
    assert c["drug_payments"] > 50
    assert c["laundering_shapes"] == len(PATTERNS) - 1
    got = {r[0] for r in con.execute("SELECT DISTINCT pattern FROM tt WHERE pattern IS NOT NULL").fetchall()}
    assert got == set(PATTERNS[1:])
    # every shop has drops, a collector and drug payments
    rows = con.execute("SELECT channel_id, len(drop_accounts), len(collector_accounts), n_drug_payments FROM ch").fetchall()
    for ch, drops, cols, pays in rows:
        assert drops >= 1 and cols >= 1 and pays >= 1, ch
    assert c["transfers"] == con.execute("SELECT count(*) FROM t").fetchone()[0]


def test_summary_renders(small_world):
    from rich.console import Console

    _, summary = small_world
    con = Console(record=True, width=100)
    con.print(summary.render())
    text = con.export_text()
    assert "drug payments" in text and "laundering transfers" in text


def test_transfer_ids_unique_and_time_ordered(con):
    n, distinct = con.execute("SELECT count(*), count(DISTINCT transfer_id) FROM t").fetchone()
    assert n == distinct
    bad = con.execute("""SELECT count(*) FROM (SELECT timestamp, lag(timestamp) OVER (ORDER BY transfer_id) prev
                         FROM t) WHERE timestamp < prev""").fetchone()[0]
    assert bad == 0
    # every transfer's accounts exist in accounts.parquet; no one pays themselves
    orphans = con.execute("""SELECT count(*) FROM t WHERE from_account NOT IN (SELECT account_id FROM a)
                             OR to_account NOT IN (SELECT account_id FROM a)""").fetchone()[0]
    assert orphans == 0
    assert con.execute("SELECT count(*) FROM t WHERE from_account = to_account").fetchone()[0] == 0


def test_card_and_phone_transfers_carry_the_identifier_the_payer_typed(small_world, con):
    out, _ = small_world
    rows = con.execute(f"""
        SELECT t.channel, count(*), count(t.to_card), count(t.to_phone),
               count(*) FILTER (WHERE t.to_card IS NOT NULL AND t.to_card <> a.card),
               count(*) FILTER (WHERE t.to_phone IS NOT NULL AND t.to_phone <> a.phone)
        FROM read_parquet('{out / 'transfers.parquet'}') t
        JOIN read_parquet('{out / 'accounts.parquet'}') a ON a.account_id = t.to_account
        GROUP BY 1""").fetchall()
    by = {r[0]: r[1:] for r in rows}
    n, cards, phones, bad_cards, bad_phones = by["card_p2p"]
    assert cards > 0.9 * n and phones == 0 and bad_cards == 0
    n, cards, phones, bad_cards, bad_phones = by["phone_p2p"]
    assert phones > 0.9 * n and cards == 0 and bad_phones == 0
    for chan, (_, cards, phones, _, _) in by.items():
        if chan not in ("card_p2p", "phone_p2p"):
            assert cards == phones == 0, chan
