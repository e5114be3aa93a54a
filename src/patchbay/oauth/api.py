"""Routes of the OAuth flow: `…/integrations/authorize/` (project level, API key with
integration:write) and the browser-facing `/integrations/{kind}/callback` (no key: the `state`
record authenticates it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from patchbay.connect.api import oauth_return as connect_return
from patchbay.integration.events import on_integration_deleted
from patchbay.kit import browser_binding
from patchbay.oauth import service
from patchbay.oauth.revoke import revoke_on_delete
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import get_runtime, project_context

on_integration_deleted(revoke_on_delete)

router = APIRouter(tags=["integrations"])
callback_router = APIRouter(tags=["oauth"])

write = project_context("integration:write")


@router.get(
    "/integrations/authorize",
    name="integrations_authorize",
    status_code=302,
    response_class=Response,
    responses={302: {"description": "Redirect to the provider's consent page"}},
)
async def authorize(
    request: Request,
    ctx: ProjectContext = Depends(write),
    kind: str | None = Query(None, description="The OAuth integration kind to connect."),
    next: str | None = Query(
        None, description="Where to send the browser afterwards (relative path or allowed origin)."
    ),
) -> Response:
    started = await service.start_authorization(ctx, kind, next, request.cookies.get(service.STATE_COOKIE))
    response = RedirectResponse(started.location, status_code=302)
    # Binds the attempt to this browser: the callback refuses any other (connect-page flows too).
    browser_binding.set_cookie(
        response,
        service.STATE_COOKIE,
        started.browser_value,
        max_age=int(service.STATE_TTL.total_seconds()),
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
    page = await connect_return(runtime, kind, request)  # None unless a connect page started it
    if page is not None:
        return page
    location = await service.browser_callback(
        runtime, kind, dict(request.query_params), request.cookies.get(service.STATE_COOKIE)
    )
    # The binding cookie stays: the browser may have another flow under way in another tab.
    return RedirectResponse(location, status_code=302)
