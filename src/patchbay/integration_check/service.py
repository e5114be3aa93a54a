"""Checks: the kind's verification call through the provider registry's `HealthCheck`, classified
with the shared taxonomy (`kit.provider_errors.health_after`), stored with its event.

No transaction is held while the provider is called: the row is read, the session committed, the
call made (an OAuth token due for a refresh is refreshed first, which records its own health), then
the outcome written under the row lock.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from patchbay.activity.service import record_activity
from patchbay.integration import service as integrations
from patchbay.integration.health import HEALTHY, UNKNOWN, set_health
from patchbay.integration_check.repository import lock_for_health
from patchbay.integration_check.schemas import Outcome
from patchbay.kit.errors import APIError, NotFound, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError, health_after, is_transient
from patchbay.kit.retry import RetryPolicy, with_retries
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth.refresh import ensure_fresh_token
from patchbay.providers import registry
from patchbay.providers.base import HealthCheck
from patchbay.tenancy.context import ProjectContext

log = logging.getLogger("patchbay.integration_check")

NO_CHECK = "Patchbay has no verification call for {name} integrations: their health stays unknown."
CHECK_POLICY = RetryPolicy()


def _failure_detail(name: str, error: UpstreamError) -> str:
    if is_transient(error.failure):
        return f"{name} did not answer the verification call ({error.reason}); try again later."
    return f"{name} refused this integration's credentials ({error.reason}). Please reconnect it."


async def _verify(ctx: ProjectContext, row: Integration, check: HealthCheck) -> Outcome | None:
    """What the call says; None when the refresher's record of a failed refresh stands."""
    name = registry.display_name(row.kind)
    try:
        fresh = await ensure_fresh_token(ctx.runtime, row)
    except ValidationError:
        if registry.oauth_provider(row.kind) is not None and row.errors == TOKEN_REFRESH_FAILED:
            return None  # the refresher said why when it failed
        error = UpstreamError(row.kind, Failure.AUTH, "credentials unusable")
        return Outcome(health_after(error.failure, row.health_status), _failure_detail(name, error), "unusable")
    except APIError:
        return None  # a transient refresh failure, recorded by the refresher
    settings = ctx.runtime.settings
    try:
        await with_retries(lambda: check.check(settings, fresh.config, fresh.secrets), CHECK_POLICY)
    except UpstreamError as error:
        log.warning(
            "integration check failed",
            extra={"kind": row.kind, "integration": row.id, "failure": error.failure.value, "reason": error.reason},
        )
        code = error.provider_code or error.failure.value
        return Outcome(health_after(error.failure, row.health_status), _failure_detail(name, error), code)
    if fresh.errors == TOKEN_REFRESH_FAILED:
        # The token works, the refresh does not: the refresher's verdict stands until it succeeds.
        return None
    return Outcome(HEALTHY)


async def check_integration(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    row = await integrations.get_integration_model(ctx, pk)
    await ctx.session.commit()  # nothing held open while the provider is called
    check = registry.health_check(row.kind)
    if check is None:
        answer = await integrations.get_integration(ctx, pk)
        if answer["health"]["status"] == UNKNOWN:
            answer["health"]["detail"] = NO_CHECK.format(name=registry.display_name(row.kind))
        return answer
    started = time.monotonic()
    outcome = await _verify(ctx, row, check)
    elapsed_ms = (time.monotonic() - started) * 1000
    locked = await lock_for_health(ctx.session, ctx.project.id, pk)
    if locked is None:
        raise NotFound()  # deleted while the provider answered
    if outcome is None:
        outcome = Outcome(locked.health_status, locked.health_detail)
    await set_health(ctx.session, locked, outcome.status, detail=outcome.detail, code=outcome.code, checked=True)
    await record_activity(
        ctx.session,
        integration_id=pk,
        team_id=ctx.project.id,
        action="check",
        outcome=outcome.status,
        duration_ms=elapsed_ms,
        api_key_id=ctx.subject.key_id,
    )
    await ctx.session.commit()
    return await integrations.get_integration(ctx, pk)
