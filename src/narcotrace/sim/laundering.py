"""The 8 laundering shapes of IBM's AMLworld (fan-out, fan-in, cycle, bipartite, stack, random,
scatter-gather, gather-scatter), hidden among ordinary accounts, each instance with a pattern id."""

from __future__ import annotations

import numpy as np

from narcotrace.sim.flows import ACT, CH, LEG, PAT, PATTERNS, Flows
from narcotrace.sim.population import Population

HOUR = 3600


class _Instance:
    def __init__(self, rng: np.random.Generator, t0: int, base: float) -> None:
        self.rng = rng
        self.edges: list[tuple[int, int, int, int]] = []  # src, dst, ts, tiyn
        self.t0 = t0
        self.base = base

    def hop(self, t: int) -> int:
        return t + int(self.rng.uniform(1, 8) * HOUR)

    def amount(self, scale: float = 1.0) -> int:
        # amounts of one attempt are alike (the same money split or passed on, minus small fees)
        return int(round(self.base * scale * self.rng.uniform(0.85, 1.15), -2)) * 100

    def edge(self, a: int, b: int, t: int, tiyn: int) -> None:
        self.edges.append((int(a), int(b), int(t), int(tiyn)))


def _shape(kind: str, inst: _Instance, nodes: list[int]) -> list[int]:
    """Adds the edges of one attempt; returns the source accounts (those that must be funded)."""
    rng, t = inst.rng, inst.t0
    if kind == "fan-out":
        s, targets = nodes[0], nodes[1:]
        for b in targets:
            t = inst.hop(t)
            inst.edge(s, b, t, inst.amount())
        return [s]
    if kind == "fan-in":
        s, sources = nodes[0], nodes[1:]
        for a in sources:
            t = inst.hop(t)
            inst.edge(a, s, t, inst.amount())
        return sources
    if kind == "cycle":
        amt = inst.amount()
        for a, b in zip(nodes, nodes[1:] + nodes[:1]):
            t = inst.hop(t)
            inst.edge(a, b, t, amt)
            amt = int(amt * rng.uniform(0.97, 1.0)) // 100 * 100
        return [nodes[0]]
    if kind == "random":
        amt = inst.amount()
        for a, b in zip(nodes, nodes[1:]):
            t = inst.hop(t)
            inst.edge(a, b, t, amt)
            amt = int(amt * rng.uniform(0.95, 1.0)) // 100 * 100
        return [nodes[0]]
    if kind == "bipartite":
        k = max(2, len(nodes) // 2)
        left, right = nodes[:k], nodes[k:]
        pairs = {(a, right[i % len(right)]) for i, a in enumerate(left)}
        pairs |= {(left[j % len(left)], b) for j, b in enumerate(right)}
        for a in left:
            for b in right:
                if rng.random() < 0.35:
                    pairs.add((a, b))
        for a, b in sorted(pairs):
            inst.edge(a, b, t + int(rng.uniform(0, 48) * HOUR), inst.amount())
        return left
    if kind == "stack":
        k = len(nodes) // 3
        layers = [nodes[:k], nodes[k:2 * k], nodes[2 * k:]]
        t1 = t
        for a in layers[0]:
            for b in layers[1]:
                inst.edge(a, b, t1 + int(rng.uniform(0, 24) * HOUR), inst.amount())
        t2 = t1 + 30 * HOUR
        for a in layers[1]:
            for b in layers[2]:
                inst.edge(a, b, t2 + int(rng.uniform(0, 24) * HOUR), inst.amount())
        return layers[0]
    if kind == "scatter-gather":
        s, sink, mids = nodes[0], nodes[1], nodes[2:]
        for m in mids:
            t1 = inst.hop(t)
            a = inst.amount()
            inst.edge(s, m, t1, a)
            inst.edge(m, sink, t1 + int(rng.uniform(12, 48) * HOUR), int(a * rng.uniform(0.95, 1.0)) // 100 * 100)
        return [s]
    if kind == "gather-scatter":
        k = max(2, (len(nodes) - 1) // 2)
        hub, sources, targets = nodes[0], nodes[1:1 + k], nodes[1 + k:]
        for a in sources:
            t = inst.hop(t)
            inst.edge(a, hub, t, inst.amount())
        for b in targets:
            t = inst.hop(t)
            inst.edge(hub, b, t, inst.amount(len(sources) / max(1, len(targets)) * 0.95))
        return sources
    raise ValueError(kind)


LOCAL_UTC_OFFSET_S = 5 * HOUR


def daytime(ts: np.ndarray | int) -> np.ndarray:
    """Squeeze each local (UTC+5) day onto its 08:00-22:00: launderers bank in the day like everyone else.
    Strictly increasing, so the order of an attempt's steps is kept."""
    local = np.asarray(ts, dtype=np.int64) + LOCAL_UTC_OFFSET_S
    day, sec = np.divmod(local, 86_400)
    return day * 86_400 + 8 * HOUR + sec * 14 // 24 - LOCAL_UTC_OFFSET_S


_SIZES = {"fan-out": (5, 11), "fan-in": (5, 11), "cycle": (3, 8), "random": (4, 9), "bipartite": (4, 9),
          "stack": (6, 13), "scatter-gather": (5, 11), "gather-scatter": (5, 12)}


def laundering(rng: np.random.Generator, pop: Population, start_ts: int, days: int, exclude: set[int],
               per_shape: int) -> tuple[Flows, dict[int, list[tuple[str, int]]]]:
    """All attempts; and for each member account the (pattern, pattern_id) it took part in."""
    # launderers use ordinary people's accounts and some firms, never the shops' own people
    pool = np.concatenate([pop.person_accounts[:, 0], pop.person_accounts[:, 1][pop.person_accounts[:, 1] >= 0],
                           pop.suppliers, pop.employers])
    pool = np.array([a for a in rng.permutation(pool) if int(a) not in exclude], dtype=np.int64)
    pos = 0
    parts: list[Flows] = []
    members: dict[int, list[tuple[str, int]]] = {}
    pid = 0
    span = max(1, days - 6) * 86_400
    end = start_ts + days * 86_400
    for kind in PATTERNS[1:]:
        for _ in range(per_shape):
            lo, hi = _SIZES[kind]
            n = int(rng.integers(lo, hi))
            if pos + n > len(pool):
                pos = 0  # tiny worlds: accounts take part in more than one attempt
            nodes = [int(x) for x in pool[pos:pos + n]]
            pos += n
            t0 = start_ts + 2 * 86_400 + int(rng.integers(0, span))
            inst = _Instance(rng, t0, float(rng.lognormal(np.log(900_000), 0.8)))
            sources = _shape(kind, inst, nodes)
            e = np.array(inst.edges, dtype=np.int64)
            e[:, 2] = daytime(e[:, 2])
            if e[:, 2].max() >= end:
                continue  # an attempt is labelled whole or not at all
            pid += 1
            n_e = len(e)
            ch = rng.choice([CH["iban_transfer"], CH["card_p2p"], CH["phone_p2p"]], n_e, p=[0.6, 0.3, 0.1])
            parts.append(Flows.make(e[:, 0], e[:, 1], e[:, 2], e[:, 3], ch, ACT["laundering"], leg=LEG["pattern"],
                                    pattern=PAT[kind], pattern_id=pid))
            # placement: dirty cash is deposited into the sources in the day or two before
            for s in sources:
                need = int(e[e[:, 0] == s, 3].sum())
                k = int(rng.integers(1, 4))
                for j in range(k):
                    atm = pop.atms[int(rng.integers(0, len(pop.atms)))]
                    t = int(daytime(t0 - int(rng.uniform(2, 44) * HOUR)))
                    parts.append(Flows.make([atm], [s], [t], [int(need / k * rng.uniform(1.0, 1.08)) // 100 * 100],
                                            CH["cash_deposit"], ACT["laundering"], leg=LEG["placement"],
                                            pattern=PAT[kind], pattern_id=pid))
            for a in nodes:
                members.setdefault(a, []).append((kind, pid))
    return Flows.concat(parts), members
