"""Datetimes as DRF renders them: ISO 8601 in UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def utc_now_iso() -> str:
    """Now, ISO 8601 with `+00:00` (the `lastRefreshedAt` of provider resource lists)."""
    return datetime.now(UTC).isoformat()
