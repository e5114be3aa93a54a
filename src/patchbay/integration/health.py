"""A connection's health: the `health` object of every integration response, and the one place
that moves a row between statuses and raises the webhook event of the transition.

Statuses (docs/health.md): `healthy` (the provider accepted the credentials at the last refresh,
check or connect), `unknown` (never verified: a kind Patchbay cannot verify, or a row older than
the health columns), `refresh_failed` (a transient failure: timeouts, 5xx, 429; retried with
back-off) and `reauthorization_required` (the provider refused the grant or the credentials: a
person must connect again). Which failure leads where is `kit.provider_errors.health_after`.

Events: entering `refresh_failed` or `reauthorization_required` raises the event of that name;
leaving either for `healthy` raises `integration.recovered`. Moves between `unknown` and
`healthy` raise nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from patchbay.integration import events
from patchbay.kit.provider_errors import (
    HEALTHY,
    REAUTHORIZATION_REQUIRED,
    REFRESH_FAILED,
    UNKNOWN,
)
from patchbay.models.base import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from patchbay.models import Integration

__all__ = ["HEALTHY", "REAUTHORIZATION_REQUIRED", "REFRESH_FAILED", "UNKNOWN", "health_object", "set_health"]

FAILING = frozenset({REFRESH_FAILED, REAUTHORIZATION_REQUIRED})
_EVENTS = {
    REFRESH_FAILED: events.INTEGRATION_REFRESH_FAILED,
    REAUTHORIZATION_REQUIRED: events.INTEGRATION_REAUTHORIZATION_REQUIRED,
}
REFRESH_DETAILS = {
    REFRESH_FAILED: "The provider could not refresh this integration's token; it is retried with back-off.",
    REAUTHORIZATION_REQUIRED: "The provider refused this integration's credentials. Please reconnect it.",
}


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def health_object(row: Any) -> dict[str, Any]:
    """The `health` object of a row (a selected mapping with the health columns and
    `config`): no query, no provider call. `last_refreshed_at` is when the stored token was issued
    (connect or refresh), `expires_at` when it stops working (null for tokens that do not expire)."""
    config = row["config"] if isinstance(row["config"], dict) else {}
    refreshed_at, expires_in = config.get("refreshed_at"), config.get("expires_in")
    refreshed = _epoch(refreshed_at)
    expires_at = None
    if refreshed is not None and expires_in is not None:
        try:
            expires_at = _epoch(refreshed.timestamp() + float(expires_in))
        except (TypeError, ValueError):
            expires_at = None
    return {
        "status": row["health_status"] or UNKNOWN,
        "detail": row["health_detail"],
        "expires_at": expires_at,
        "last_refreshed_at": refreshed,
        "last_checked_at": row["health_checked_at"],
    }


def event_for(before: str, after: str) -> str | None:
    """The webhook event of a transition, or None."""
    if after == before:
        return None
    if after in FAILING:
        return _EVENTS[after]
    if after == HEALTHY and before in FAILING:
        return events.INTEGRATION_RECOVERED
    return None


async def set_health(
    session: AsyncSession,
    row: Integration,
    status: str,
    *,
    detail: str | None = None,
    code: str | None = None,
    checked: bool = False,
) -> None:
    """Inside the transaction that learnt it: store the row's new health and raise the event of the
    transition (written in the same transaction). `detail` and `code` must never hold a secret."""
    before = row.health_status or UNKNOWN
    row.health_status = status
    row.health_detail = detail
    if checked:
        row.health_checked_at = utcnow()
    change = event_for(before, status)
    if change is None:
        return
    error = None
    if status in FAILING:
        error = {"code": code or status, "detail": detail or REFRESH_DETAILS[status]}
    await events.integration_changed(session, change, row, error)
