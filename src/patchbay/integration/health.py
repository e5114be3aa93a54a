"""A connection's health as the refresh bookkeeping leaves it, and the event raised when it changes:
`refresh_failed` (transient: timeouts, 5xx, 429; retried with back-off), `reauthorization_required`
(the provider refused the grant, or the secrets are unreadable: a person must connect again), and
`recovered` when a refresh succeeds again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patchbay.integration import events
from patchbay.models import TOKEN_REFRESH_FAILED

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from patchbay.models import Integration

HEALTHY = "healthy"
REFRESH_FAILED = "refresh_failed"
REAUTHORIZATION_REQUIRED = "reauthorization_required"

_EVENTS = {
    HEALTHY: events.INTEGRATION_RECOVERED,
    REFRESH_FAILED: events.INTEGRATION_REFRESH_FAILED,
    REAUTHORIZATION_REQUIRED: events.INTEGRATION_REAUTHORIZATION_REQUIRED,
}
_DETAILS = {
    REFRESH_FAILED: "The provider could not refresh this integration's token; it is retried with back-off.",
    REAUTHORIZATION_REQUIRED: "The provider refused this integration's credentials. Please reconnect it.",
}


def status_of(errors: str | None, config: dict[str, Any] | None) -> str:
    if errors != TOKEN_REFRESH_FAILED:
        return HEALTHY
    config = config or {}
    if config.get("refresh_terminal") or config.get("refresh_invalid_grant_count"):
        return REAUTHORIZATION_REQUIRED
    return REFRESH_FAILED


async def publish_health_change(
    session: AsyncSession, row: Integration, before: str, failure: str | None = None
) -> None:
    """Inside the refresh's transaction: an event when the row's health differs from `before`."""
    after = status_of(row.errors, row.config)
    if after == before:
        return
    error = None if after == HEALTHY else {"code": failure or after, "detail": _DETAILS[after]}
    await events.integration_changed(session, _EVENTS[after], row, error)
