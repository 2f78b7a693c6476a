"""Transfers as column arrays (one numpy array per field), with the code lists their small-int columns use."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Payment channels (transfers.channel).
CHANNELS = ("card_p2p", "phone_p2p", "iban_transfer", "salary", "merchant_pos", "bill_payment", "atm_withdrawal",
            "cash_deposit", "crypto_transfer", "swift")
# What the transfer is in ordinary life or in the crime (truth/transfers.activity).
ACTIVITIES = ("pos_purchase", "p2p", "salary", "rent", "utility", "atm_withdrawal", "own_transfer",
              "seller_payment", "big_purchase", "b2b", "crypto_buy", "salary_passthrough", "group_collection",
              "group_gift", "charity_donation", "charity_forward", "remittance", "cash_deposit", "drug",
              "laundering", "loan_repayment")
# Legs of the drug money route (truth/transfers.leg).
LEGS = ("", "buyer_to_drop", "drop_to_collector", "collector_to_exchanger", "exchanger_to_wallet",
        "collector_to_cash", "collector_to_foreign", "placement", "pattern", "buyer_to_wallet",
        "collector_to_collector")
# The 8 AMLworld laundering shapes (truth/transfers.pattern).
PATTERNS = ("", "fan-out", "fan-in", "cycle", "bipartite", "stack", "random", "scatter-gather", "gather-scatter")

CH = {c: i for i, c in enumerate(CHANNELS)}
ACT = {a: i for i, a in enumerate(ACTIVITIES)}
LEG = {g: i for i, g in enumerate(LEGS)}
PAT = {p: i for i, p in enumerate(PATTERNS)}


class Vocab:
    """Payment references, stored once and referred to by code (0 = no reference)."""

    def __init__(self) -> None:
        self.words: list[str | None] = [None]
        self._index: dict[str, int] = {}

    def code(self, text: str) -> int:
        i = self._index.get(text)
        if i is None:
            i = self._index[text] = len(self.words)
            self.words.append(text)
        return i

    def codes(self, texts: list[str]) -> np.ndarray:
        return np.array([self.code(t) for t in texts], dtype=np.int32)


@dataclass
class Flows:
    """A batch of transfers. ts: seconds since the epoch (UTC); amt: KZT tiyn (1/100) of the base amount."""

    src: np.ndarray
    dst: np.ndarray
    ts: np.ndarray
    amt: np.ndarray
    chan: np.ndarray
    act: np.ndarray
    desc: np.ndarray
    leg: np.ndarray
    pattern: np.ndarray
    pattern_id: np.ndarray
    shop: np.ndarray  # index into shops, -1 none
    post: np.ndarray  # index into the ad list, -1 none

    _DTYPES = {"src": np.int32, "dst": np.int32, "ts": np.int64, "amt": np.int64, "chan": np.int8,
               "act": np.int8, "desc": np.int32, "leg": np.int8, "pattern": np.int8, "pattern_id": np.int32,
               "shop": np.int16, "post": np.int32}
    _DEFAULTS = {"desc": 0, "leg": 0, "pattern": 0, "pattern_id": -1, "shop": -1, "post": -1}

    @classmethod
    def make(cls, src, dst, ts, amt, chan, act, **extra) -> Flows:
        n = len(np.atleast_1d(src))
        cols = {"src": src, "dst": dst, "ts": ts, "amt": amt, "chan": chan, "act": act}
        for k, v in cls._DEFAULTS.items():
            cols[k] = extra.get(k, v)
        out = {}
        for k, v in cols.items():
            a = np.asarray(v)
            a = np.full(n, a, dtype=cls._DTYPES[k]) if a.ndim == 0 else a.astype(cls._DTYPES[k], copy=False)
            assert len(a) == n, k
            out[k] = a
        return cls(**out)

    @classmethod
    def empty(cls) -> Flows:
        return cls(**{k: np.empty(0, dtype=t) for k, t in cls._DTYPES.items()})

    @classmethod
    def concat(cls, parts: list[Flows]) -> Flows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def take(self, idx) -> Flows:
        return Flows(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def __len__(self) -> int:
        return len(self.src)
