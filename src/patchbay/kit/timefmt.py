"""Datetimes as DRF renders them: ISO 8601 in UTC with a `Z`."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
