"""Typo-tolerant search and slicing of an in-memory list (provider resource lists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SEARCH_SCORE_CUTOFF = 70.0


def fuzzy_search(
    items: list[dict[str, Any]], query: str, key: Callable[[dict[str, Any]], str]
) -> list[dict[str, Any]]:
    """Typo-tolerant ranking on `key` (best first, ties in input order), then every item whose id
    contains the query, so a pasted id still resolves."""
    query = query.strip()
    if not query:
        return items
    # rapidfuzz costs ~2.5 MB per worker: loaded by the first search with a query.
    from rapidfuzz import fuzz, process, utils

    matches = process.extract(
        query,
        [key(item) for item in items],
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=SEARCH_SCORE_CUTOFF,
        limit=None,
    )
    ranked = [items[index] for _, _, index in matches]
    seen = {item["id"] for item in ranked}
    lowered = query.lower()
    return ranked + [item for item in items if lowered in item["id"].lower() and item["id"] not in seen]


def page(items: list[dict[str, Any]], limit: int, offset: int) -> tuple[list[dict[str, Any]], bool]:
    """One page and whether more items follow it."""
    return items[offset : offset + limit], offset + limit < len(items)
