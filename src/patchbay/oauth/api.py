"""Routes of the OAuth flow: `…/integrations/authorize/` (project level, API key with
integration:write) and the browser-facing `/integrations/{kind}/callback` (no key: the `state`
record authenticates it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from patchbay.auth.service import anonymous_caller
from patchbay.integration.events import on_integration_deleted
from patchbay.kit import browser_binding
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
    request: Request,
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


# A domain above oauth (connect) finishes the flows it started itself: a handler answers a response
# for its own attempts and None for every other. Registered at import, like integration.events.
CallbackHandler = Callable[[Runtime, str, Request], Awaitable[Response | None]]
_callback_handlers: list[CallbackHandler] = []


def on_callback(handler: CallbackHandler) -> CallbackHandler:
    if handler not in _callback_handlers:
        _callback_handlers.append(handler)
    return handler


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
    for handler in list(_callback_handlers):  # e.g. the connect page's flows answer with a page
        page = await handler(runtime, kind, request)
        if page is not None:
            return page
    location = await service.browser_callback(
        runtime, kind, dict(request.query_params), request.cookies.get(service.STATE_COOKIE)
    )
    # The binding cookie stays: the browser may have another flow under way in another tab.
    return RedirectResponse(location, status_code=302)
