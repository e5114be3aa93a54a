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
# (runtime, the saved row's id) — after create, reconnect or any upsert. The id, not the row: what
# is cached of an integration is keyed by it, and a create through the API builds no ORM object.
SaveHook = Callable[["Runtime", int], Awaitable[None]]

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


async def integration_saved(runtime: Runtime, pk: int) -> None:
    for hook in list(_on_saved):
        try:
            await hook(runtime, pk)
        except Exception:  # noqa: BLE001
            log.warning(
                "integration save hook failed",
                extra={"hook": getattr(hook, "__name__", "?"), "integration": pk},
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


# --- creates and deletes in one statement (PostgreSQL) ---------------------------------------------
# On PostgreSQL a create is one statement committed on its own (the upsert, each change hook's writes
# riding in it as CTEs), and so is a delete that no hook has anything to write for: no transaction's
# BEGIN and COMMIT round trips. A change hook joins by registering a ChangeCompanion; while any change
# hook has none, creates and deletes take the session's transaction (integration.service).


@dataclass(frozen=True)
class NewIntegration:
    """A create about to be sent, as companions see it: its project, and the API object the row
    will have if the statement inserts it (`id` 0: the database assigns it in the statement)."""

    project_id: int
    organization_id: Any
    api_object: dict[str, Any]


@dataclass(frozen=True)
class ChangeCompanion:
    """What a change hook adds to the one-statement create and delete (PostgreSQL).

    `ctes`: CTEs (each introduced by a comma) that read `saved`, the row the create's statement
    wrote (`id`, `inserted`; empty when it wrote nothing), to do for `integration.created` what the
    hook does, with `params(new)` their parameters for one create.
    `update_guard` / `delete_guard`: conditions under which the statement may overwrite or delete an
    existing row by itself (the hook would have nothing to write for `integration.updated` /
    `integration.deleted`); otherwise the statement leaves the row alone and the change takes the
    session's path. All may use `:project_id`; name their own parameters after the hook's domain."""

    ctes: str
    update_guard: str
    delete_guard: str
    params: Callable[[NewIntegration], dict[str, Any]]


_change_companions: dict[ChangeHook, ChangeCompanion] = {}


def change_companion(hook: ChangeHook, companion: ChangeCompanion) -> None:
    """Register what `hook` (a registered change hook) does inside one-statement changes."""
    _change_companions[hook] = companion


def change_companions() -> tuple[ChangeCompanion, ...] | None:
    """Every change hook's companion, or None when a change hook has none (no one-statement change)."""
    if any(hook not in _change_companions for hook in _on_change):
        return None
    return tuple(_change_companions[hook] for hook in _on_change)
