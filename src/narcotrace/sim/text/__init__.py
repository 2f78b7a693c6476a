"""Vocabulary and templates of the synthetic posts (YAML data) and the small generic engine that expands them."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load(name: str) -> dict[str, Any]:
    """One YAML data file of this package, e.g. load("sale") reads sale.yaml (parsed once per process)."""
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
