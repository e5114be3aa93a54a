"""HubSpot answers a dead refresh token with {"status": "BAD_REFRESH_TOKEN"} (or BAD_HUB)."""

from __future__ import annotations

from typing import Any


def classify_refresh_error(status: int, body: Any) -> str | None:
    if status < 500 and isinstance(body, dict) and body.get("status") in {"BAD_HUB", "BAD_REFRESH_TOKEN"}:
        return "invalid_grant"
    return None
