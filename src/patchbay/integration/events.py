"""Hooks other domains attach to the integration lifecycle.

Two kinds: after-commit hooks (revoke on delete, cache drops, SES cleanup) run once the change is
committed, best effort: a failing hook is logged, never raised. Change hooks (the webhook outbox)
run inside the transaction that makes the change, before its commit, with its session: what they
write commits or rolls back with the change, and a failing one fails the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from patchbay.models import Integration, OrganizationIntegration
    from patchbay.runtime import Runtime

log = logging.getLogger("patchbay.integration")

# (runtime, the deleted row, its decrypted secrets)
DeleteHook = Callable[["Runtime", "Integration", dict[str, Any]], Awaitable[None]]
# (runtime, the saved row) — after create, reconnect or any upsert
SaveHook = Callable[["Runtime", "Integration"], Awaitable[None]]

_on_deleted: list[DeleteHook] = []
_on_saved: list[SaveHook] = []


def on_integration_deleted(hook: DeleteHook) -> DeleteHook:
    if hook not in _on_deleted:
        _on_deleted.append(hook)
    return hook


def on_integration_saved(hook: SaveHook) -> SaveHook:
    if hook not in _on_saved:
        _on_saved.append(hook)
    return hook


async def integration_deleted(runtime: Runtime, row: Integration, secrets: dict[str, Any]) -> None:
    for hook in list(_on_deleted):
        try:
            await hook(runtime, row, secrets)
        except Exception:  # noqa: BLE001 - best effort by design
            log.warning(
                "integration delete hook failed",
                extra={"hook": getattr(hook, "__name__", "?"), "kind": row.kind},
            )


async def integration_saved(runtime: Runtime, row: Integration) -> None:
    for hook in list(_on_saved):
        try:
            await hook(runtime, row)
        except Exception:  # noqa: BLE001
            log.warning(
                "integration save hook failed",
                extra={"hook": getattr(hook, "__name__", "?"), "kind": row.kind},
            )


# --- in-transaction changes (the webhook outbox) --------------------------------------------------
INTEGRATION_CREATED = "integration.created"
INTEGRATION_UPDATED = "integration.updated"
INTEGRATION_DELETED = "integration.deleted"
INTEGRATION_REFRESH_FAILED = "integration.refresh_failed"
INTEGRATION_REAUTHORIZATION_REQUIRED = "integration.reauthorization_required"
INTEGRATION_RECOVERED = "integration.recovered"
ORG_INTEGRATION_CREATED = "org_integration.created"
ORG_INTEGRATION_DELETED = "org_integration.deleted"


@dataclass(frozen=True)
class IntegrationChange:
    """What changed: `row` as it is after the change (a deleted row as it was), `error` for
    failures ({"code", "detail"}, never a secret), `api_object` the object the API answers for the
    row when the caller already has it (spares the outbox a read of the creator)."""

    type: str
    row: Integration | OrganizationIntegration
    error: dict[str, str] | None = None
    api_object: dict[str, Any] | None = None


ChangeHook = Callable[["AsyncSession", IntegrationChange], Awaitable[None]]

_on_change: list[ChangeHook] = []


def on_integration_change(hook: ChangeHook) -> ChangeHook:
    if hook not in _on_change:
        _on_change.append(hook)
    return hook


async def integration_changed(
    session: AsyncSession,
    change_type: str,
    row: Integration | OrganizationIntegration,
    error: dict[str, str] | None = None,
    *,
    api_object: dict[str, Any] | None = None,
) -> None:
    """Call inside the transaction that made the change, before committing it."""
    change = IntegrationChange(change_type, row, error, api_object)
    for hook in list(_on_change):
        await hook(session, change)
