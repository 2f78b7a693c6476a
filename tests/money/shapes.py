"""Hand-made transfers that contain one known instance of each laundering shape, over quiet background noise."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pandas as pd

T0 = datetime(2026, 3, 5, 1, 0)  # Thursday 01:00 UTC: the start of an epoch-aligned 7-day window

COLUMNS = ["transfer_id", "timestamp", "from_account", "to_account", "from_bank", "to_bank", "amount",
           "currency", "amount_base", "channel", "description", "source", "source_row"]


class Builder:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, src: str, dst: str, amount: float, at: datetime, channel: str = "card_p2p", prefix: str = "t") -> str:
        tid = f"{prefix}{len(self.rows):05d}"
        self.rows.append(dict(transfer_id=tid, timestamp=at, from_account=src, to_account=dst, from_bank="kaspi",
                              to_bank="kaspi", amount=float(amount), currency="KZT", amount_base=float(amount),
                              channel=channel, description="", source="shapes", source_row=len(self.rows)))
        return tid

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=COLUMNS)
        df["timestamp"] = pd.to_datetime(df["timestamp"]).astype("datetime64[us]")
        return df


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def shapes_world(seed: int = 3) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Transfers with one planted instance of each typology, and what was planted (typology -> facts)."""
    rnd = random.Random(seed)
    b = Builder()
    truth: dict[str, dict] = {}
    # background: 60 people paying each other now and then, in amounts that chain nowhere
    people = [f"p{i:03d}" for i in range(60)]
    for i in range(150):
        s, d = rnd.sample(people, 2)
        b.add(s, d, rnd.choice([1200, 3300, 7000, 15500, 26000]) + rnd.random(), T0 + hours(rnd.uniform(0, 160)))
    # rapid pass-through: 12 buyers pay the drop 5-20k, the drop forwards 98 % to the collector within hours
    buyers = [f"buyer{i:02d}" for i in range(12)]
    ins = [b.add(x, "drop1", rnd.choice([5000, 8000, 12000, 20000]), T0 + hours(1 + i)) for i, x in enumerate(buyers)]
    total = sum(r["amount"] for r in b.rows if r["to_account"] == "drop1")
    outs = [b.add("drop1", "coll1", round(total * 0.98 / 2, 2), T0 + hours(14)),
            b.add("drop1", "coll1", round(total * 0.98 / 2, 2), T0 + hours(15))]
    truth["rapid_pass_through"] = {"anchor": "drop1", "transfers": set(ins + outs)}
    # fan-in: 11 distinct payers to one account
    fin = [b.add(f"fi{i:02d}", "fanin1", 30000 + i, T0 + hours(20 + i)) for i in range(11)]
    truth["fan_in"] = {"anchor": "fanin1", "transfers": set(fin)}
    # fan-out: one account pays 10 distinct recipients
    fout = [b.add("fanout1", f"fo{i:02d}", 41000 + i, T0 + hours(30 + i)) for i in range(10)]
    truth["fan_out"] = {"anchor": "fanout1", "transfers": set(fout)}
    # cycle of 4: c0 -> c1 -> c2 -> c3 -> c0, amounts shrinking slightly, each later
    cyc = [b.add(f"c{i}", f"c{(i + 1) % 4}", 500000 * (0.97 ** i), T0 + hours(40 + 5 * i)) for i in range(4)]
    truth["cycle"] = {"anchor": "c0", "transfers": set(cyc)}
    # a loop with no time-ordered rotation (50 h, then 45 h, then 55 h): money cannot have gone round it
    b.add("x0", "x1", 700000, T0 + hours(50))
    b.add("x1", "x2", 690000, T0 + hours(45))
    b.add("x2", "x0", 680000, T0 + hours(55))
    # random chain (layering) of 5 hops: r0 -> r1 -> ... -> r5
    ch = [b.add(f"r{i}", f"r{i + 1}", 900000 * (0.96 ** i), T0 + hours(60 + 7 * i)) for i in range(5)]
    truth["random_chain"] = {"anchor": "r0", "transfers": set(ch)}
    # scatter-gather: s1 pays m0..m3, each pays g1 later
    sg = []
    for i in range(4):
        sg.append(b.add("sg_src", f"sgm{i}", 250000, T0 + hours(70 + i)))
        sg.append(b.add(f"sgm{i}", "sg_dst", 245000, T0 + hours(80 + i)))
    truth["scatter_gather"] = {"anchor": "sg_src", "transfers": set(sg)}
    # gather-scatter: 4 payers pay gs1, which pays 4 recipients afterwards
    gs = [b.add(f"gsi{i}", "gs1", 180000, T0 + hours(90 + i)) for i in range(4)]
    gs += [b.add("gs1", f"gso{i}", 170000, T0 + hours(100 + i)) for i in range(4)]
    truth["gather_scatter"] = {"anchor": "gs1", "transfers": set(gs)}
    # bipartite: 3 payers each pay the same 3 recipients; stack: those 3 each pay the same 2 accounts
    bp = [b.add(f"bpa{i}", f"bpb{j}", 160000 + 10 * i + j, T0 + hours(110 + i + j / 10)) for i in range(3) for j in range(3)]
    st = [b.add(f"bpb{j}", f"bpc{k}", 185000 + 10 * j + k, T0 + hours(120 + j + k / 10)) for j in range(3) for k in range(2)]
    truth["bipartite"] = {"anchor": "bpa0", "transfers": set(bp)}
    truth["stack"] = {"anchor": "bpa0", "transfers": set(bp) | set(st)}
    # structuring: 4 payments of 930-990k against a 1,000,000 threshold
    stc = [b.add("struct1", f"sr{i}", 930000 + 20000 * i, T0 + hours(130 + i)) for i in range(4)]
    truth["structuring"] = {"anchor": "struct1", "transfers": set(stc)}
    return b.frame(), truth


def load_into(ws, df: pd.DataFrame, tmp_path, accounts: pd.DataFrame | None = None) -> None:
    """Store hand-made transfers (and accounts) in a workspace through the real ingest path."""
    from narcotrace.money.ingest import ingest_accounts, ingest_paths

    path = tmp_path / f"transfers-{len(df)}.parquet"
    df.drop(columns=["source", "source_row"]).to_parquet(path)
    if accounts is not None:
        apath = tmp_path / "accounts.csv"
        accounts.to_csv(apath, index=False)
        ingest_accounts(ws, [apath])
    rep = ingest_paths(ws, [path])
    assert rep.stored == len(df), rep.reasons
