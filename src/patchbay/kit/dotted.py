"""PostHog's `dot_get`: read a dotted path from a JSON object."""

from __future__ import annotations

from typing import Any


def dot_get(data: Any, path: str, default: Any = None) -> Any:
    """A flat dotted key wins (token-info fields are stored as `config["user.email"]`), then a walk."""
    if isinstance(data, dict) and data.get(path) is not None:
        return data[path]
    current = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return default
        current = current[part]
    return current
