"""Exchange rates into the base currency (KZT) from a small static YAML table, and currency-name aliases."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from narcotrace.errors import UserError

DEFAULT_RATES = Path(__file__).with_name("fx_rates.yaml")


@dataclass(frozen=True)
class Rates:
    """Static reference rates: `rates[code]` tenge per unit; `aliases` maps input spellings to codes."""

    base: str
    rates: dict[str, float]
    aliases: dict[str, str]

    def code(self, currency: str | None) -> str | None:
        """The ISO/ticker code for an input spelling, or None when unknown."""
        if currency is None:
            return None
        c = currency.strip()
        if c.upper() in self.rates:
            return c.upper()
        return self.aliases.get(c) or self.aliases.get(c.lower())

    def to_base(self, amount: float, currency: str) -> float | None:
        code = self.code(currency)
        return None if code is None else amount * self.rates[code]

    def lookup_rows(self) -> list[tuple[str, str, float]]:
        """(spelling, code, rate) for every code and alias: what ingest joins against, in SQL."""
        rows = [(c, c, r) for c, r in self.rates.items()]
        rows += [(a, c, self.rates[c]) for a, c in self.aliases.items()]
        return rows


@lru_cache(maxsize=4)
def load_rates(path: str | Path | None = None) -> Rates:
    p = Path(path) if path else DEFAULT_RATES
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"{p}: cannot read exchange rates: {e}") from e
    rates = {str(k).upper(): float(v) for k, v in (data.get("rates") or {}).items()}
    aliases = {}
    for k, v in (data.get("aliases") or {}).items():
        code = str(v).upper()
        if code not in rates:
            raise UserError(f"{p}: alias {k!r} points to {v!r}, which has no rate; add it under rates")
        aliases[str(k)] = code
        aliases[str(k).lower()] = code
    return Rates(str(data.get("base", "KZT")).upper(), rates, aliases)
