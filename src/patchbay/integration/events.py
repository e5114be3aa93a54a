"""Hooks other domains attach to the integration lifecycle (revoke on delete, cache drops, SES
cleanup). They run after the commit, best effort: a failing hook is logged, never raised."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patchbay.models import Integration
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
