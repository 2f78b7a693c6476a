"""Numbers as the posts write them (rounded prices, weights) and the posting rhythm."""

from __future__ import annotations

from datetime import datetime, timezone

from narcotrace.sim.text import load

LOCAL_UTC_OFFSET_H = 5  # Kazakhstan has one time zone, UTC+5, since 2024


def hours(kind: str) -> list[float]:
    """Share of posts by hour of local time (common.yaml `rhythm`): shops post late, people by day."""
    return load("common")["rhythm"][kind]


def round_price(p: float) -> int:
    """Prices as sellers round them: to 10 tenge under 1000, then 100, 500, 1000."""
    step = 10 if p < 1000 else 100 if p < 3000 else 500 if p < 30000 else 1000
    return max(step, int(round(p / step)) * step)


def weight_str(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


def aware(t: datetime) -> datetime:
    """Naive datetimes in the world are UTC."""
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
