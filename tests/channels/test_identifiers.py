"""Accounts carry the cards and phones payers typed, so transfers alone link an ad's card to its account."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from narcotrace import identifiers
from narcotrace.money.ingest import ingest_paths


def test_ingest_derives_card_and_phone_identifiers_from_what_payers_typed(tmp_path, workspace):
    t = pa.table({
        "transfer_id": ["t1", "t2", "t3", "t4"],
        "timestamp": pa.array([datetime(2026, 1, 5, h) for h in (9, 10, 11, 12)], pa.timestamp("us")),
        "from_account": ["KZ01BUYER00000000001", "KZ01BUYER00000000002", "KZ01BUYER00000000001", "KZ01DROP000000000001"],
        "to_account": ["KZ01DROP000000000001", "KZ01DROP000000000001", "KZ01DROP000000000002", "KZ01SHOP000000000001"],
        "amount": [20000.0, 15000.0, 9000.0, 5000.0],
        "currency": ["KZT"] * 4,
        "channel": ["card_p2p", "card_p2p", "phone_p2p", "merchant_pos"],
        "to_card": ["4400 4300 1234 5678", "4400430012345678", None, None],
        "to_phone": [None, None, "8 701 111 2233", None],
    })
    pq.write_table(t, tmp_path / "transfers.parquet")
    report = ingest_paths(workspace, [tmp_path / "transfers.parquet"])
    assert report.stored == 4
    rows = set(workspace.con.execute(
        "SELECT identifier, account_id, kind, source FROM account_identifiers WHERE kind IN ('card', 'phone')").fetchall())
    assert rows == {(identifiers.card("4400430012345678"), "KZ01DROP000000000001", "card", "transfers"),
                    (identifiers.phone("87011112233"), "KZ01DROP000000000002", "phone", "transfers")}
    # the same file again adds nothing
    before = workspace.count("account_identifiers")
    ingest_paths(workspace, [tmp_path / "transfers.parquet"])
    assert workspace.count("account_identifiers") == before
