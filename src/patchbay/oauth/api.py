"""Routes of the OAuth flow: `…/integrations/authorize/` (project level, API key with
integration:write) and the browser-facing `/integrations/{kind}/callback` (no key: the `state`
record authenticates it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from patchbay.auth.service import anonymous_caller
from patchbay.integration.events import on_integration_deleted
from patchbay.oauth import service
from patchbay.oauth.revoke import revoke_on_delete
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import get_runtime, project_context

on_integration_deleted(revoke_on_delete)

router = APIRouter(tags=["integrations"])
callback_router = APIRouter(tags=["oauth"], dependencies=[Depends(anonymous_caller)])

write = project_context("integration:write")


@router.get(
    "/integrations/authorize",
    name="integrations_authorize",
    status_code=302,
    response_class=Response,
    responses={302: {"description": "Redirect to the provider's consent page"}},
)
async def authorize(
    ctx: ProjectContext = Depends(write),
    kind: str | None = Query(None, description="The OAuth integration kind to connect."),
    next: str | None = Query(
        None, description="Where to send the browser afterwards (relative path or allowed origin)."
    ),
) -> Response:
    """Start connecting an OAuth kind: 302 to the provider's consent page.

    Needs `integration:write`. The `state` is random, single-use, bound to the caller and the project,
    and expires after 10 minutes; `next` must be a relative path or lie on an allowed origin. The kind's
    OAuth app must be configured (`PATCHBAY_<KIND>_CLIENT_ID` and `PATCHBAY_<KIND>_CLIENT_SECRET`).
    """
    started = await service.start_authorization(ctx, kind, next)
    response = RedirectResponse(started.location, status_code=302)
    response.set_cookie(
        service.STATE_COOKIE,
        started.state_token,
        max_age=int(service.STATE_TTL.total_seconds()),
        path="/",
        httponly=True,  # only the server reads it: no script on the site ever needs the token
        samesite="lax",
        secure=started.secure_cookie,
    )
    return response


@callback_router.get(
    "/integrations/{kind}/callback",
    name="integrations_oauth_callback",
    status_code=302,
    response_class=Response,
    responses={302: {"description": "Redirect to `next` with `integration_id`"}},
)
async def callback(
    kind: str,
    request: Request,
    runtime: Runtime = Depends(get_runtime),
    code: str | None = Query(None),
    state: str | None = Query(None),
    error: str | None = Query(None),
) -> Response:
    """Where the provider sends the browser back. No API key: the `state` authenticates the request.
    Creates the integration, then 302 to `next` with `integration_id` (or `error`).
    """
    location = await service.browser_callback(runtime, kind, dict(request.query_params))
    response = RedirectResponse(location, status_code=302)
    response.delete_cookie(service.STATE_COOKIE, path="/")
    return response
