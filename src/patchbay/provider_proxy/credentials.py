"""GET …/integrations/{id}/credentials/ (CONTRACT §6.2): fresh credentials for the product's
backend. Only for a key that names `integration_credentials:read` (`*` does not grant it, see
auth.scopes) and a project admin. OAuth kinds: the access token, refreshed first when it expires
within 5 minutes; the refresh token never leaves. GitHub App installations are handed over the same
way (`oauth2`, the installation token, minted anew past half-life). Non-OAuth kinds: what the provider's
CredentialHandover says (Twilio: basic). Every read is recorded in the activity log."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from patchbay.activity.service import record_activity
from patchbay.integration.service import get_integration_model
from patchbay.kit.errors import APIError, ValidationError
from patchbay.kit.provider_errors import UpstreamError
from patchbay.kit.timefmt import iso
from patchbay.models import Integration
from patchbay.oauth.refresh import expires_in_of
from patchbay.provider_proxy import freshness
from patchbay.providers import registry
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import require_project_admin

NOTHING_TO_HAND_OVER = "This integration kind has no credentials to hand over."


def _expires_at(kind: str, config: dict[str, Any]) -> str | None:
    expires_in = expires_in_of(registry.oauth_provider(kind), config)
    refreshed_at = config.get("refreshed_at")
    if not expires_in or refreshed_at is None:
        return None
    return iso(datetime.fromtimestamp(float(refreshed_at) + expires_in, UTC))


async def _hand_over(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    row = await get_integration_model(ctx, pk)
    await ctx.session.commit()  # a refresh takes its own connection and row lock
    started = time.perf_counter()
    try:
        answer = await _credentials_of(ctx, row)
    except APIError as exc:
        await _record(ctx, row.id, row.project_id, exc.code, exc.status_code, started)
        raise
    await _record(ctx, row.id, row.project_id, "success", 200, started)
    return answer


async def _credentials_of(ctx: ProjectContext, row: Integration) -> dict[str, Any]:
    pk, kind = row.id, row.kind
    if freshness.is_oauth(kind):
        current = await freshness.current(ctx.runtime, row)
        token = current.secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValidationError(NOTHING_TO_HAND_OVER)
        return {
            "id": pk,
            "kind": kind,
            "auth_type": "oauth2",
            "expires_at": _expires_at(kind, current.config),
            "credentials": {"access_token": token, "token_type": "Bearer"},
        }
    handover = registry.credential_handover(kind)
    if handover is None:
        raise ValidationError(NOTHING_TO_HAND_OVER)
    current = await freshness.current(ctx.runtime, row)
    try:
        auth_type, credentials = handover.hand_over(current.config, current.secrets)
    except UpstreamError:
        raise ValidationError(NOTHING_TO_HAND_OVER) from None
    return {"id": pk, "kind": kind, "auth_type": auth_type, "expires_at": None, "credentials": credentials}


async def _record(
    ctx: ProjectContext, pk: int, project_id: int, outcome: str, status: int, started: float
) -> None:
    await record_activity(
        ctx.session,
        integration_id=pk,
        team_id=project_id,
        action="credentials",
        outcome=outcome,
        status_code=status,
        duration_ms=(time.perf_counter() - started) * 1000,
        method="GET",
        api_key_id=ctx.subject.key_id,
    )
    await ctx.session.commit()


async def read_credentials(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    require_project_admin(ctx)
    return await _hand_over(ctx, pk)
