"""PostHog's `dot_get`: read a dotted path from a JSON object."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def _parts(path: str) -> tuple[str, ...]:
    # Paths come from the provider catalogue: a few dozen, split once each (this runs per listed row).
    return tuple(path.split("."))


def dot_get(data: Any, path: str, default: Any = None) -> Any:
    """A flat dotted key wins (token-info fields are stored as `config["user.email"]`), then a walk."""
    if isinstance(data, dict):
        flat = data.get(path)
        if flat is not None:
            return flat
    current = data
    for part in _parts(path):
        if not isinstance(current, dict) or part not in current:
            return default
        current = current[part]
    return current
