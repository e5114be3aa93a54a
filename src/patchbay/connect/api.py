"""Routes of connect sessions: `POST …/connect_sessions/` (API key with integration:write) and
the hosted pages under `/connect/` (no key: the session's token in the URL is the capability)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from patchbay.auth.service import anonymous_caller
from patchbay.connect import csrf, flows, pages, service
from patchbay.connect.kinds import card
from patchbay.connect.schemas import ConnectSessionCreate, ConnectSessionCreated
from patchbay.connect.service import FormProblem, OpenSession, PageProblem
from patchbay.kit import browser_binding
from patchbay.kit.errors import NotFound
from patchbay.kit.responses import JSONResponse
from patchbay.oauth.api import on_callback
from patchbay.oauth.service import STATE_COOKIE, STATE_TTL
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import get_runtime, project_context

router = APIRouter(tags=["connect"])
# The pages carry no key: the link token is their proof, and guesses cost a per-address slot.
page_router = APIRouter(include_in_schema=False, dependencies=[Depends(anonymous_caller)])

write = project_context("integration:write")
POPUP = "popup"


@router.post(
    "/connect_sessions",
    name="connect_sessions_create",
    status_code=201,
    response_model=ConnectSessionCreated,
    summary="A link to Patchbay's connect page for an end user (30 minutes, single use).",
)
async def create_connect_session(
    body: ConnectSessionCreate | None = None, ctx: ProjectContext = Depends(write)
) -> Response:
    """A connect session: a link (`url`) an end user opens to connect one of `kinds` to this project,
    then returns to `next` with `integration_id` and `kind`. Needs `integration:write`; reconnecting
    an `integration_id` needs a project admin. The token expires after 30 minutes and works once."""
    created = await service.create_session(ctx, body or ConnectSessionCreate.model_validate({}))
    return JSONResponse(created, status_code=201)


# --- assets ------------------------------------------------------------------------------------------
@page_router.get("/connect/connect.js")
async def connect_script() -> Response:
    found = pages.asset("connect.js")
    assert found is not None
    return found


@page_router.get("/connect/static/{name}")
async def connect_asset(name: str) -> Response:
    found = pages.asset(name)
    if found is None:
        raise NotFound()
    return found


# --- pages ---------------------------------------------------------------------------------------------
def _secure(runtime: Runtime) -> bool:
    return runtime.settings.site_origin.startswith("https://")


def _choose_page(
    runtime: Runtime,
    opened: OpenSession,
    browser_value: str,
    popup: bool,
    problem: FormProblem | None = None,
) -> Response:
    row = opened.row
    response = pages.render(
        "choose.html",
        400 if problem else 200,
        token=opened.token,
        cards=opened.cards,
        reconnect=row.integration_pk is not None,
        mode=POPUP if popup else "",
        csrf=csrf.form_token(runtime, browser_value, row.id),
        open_kind=problem.kind if problem else (opened.cards[0].kind if len(opened.cards) == 1 else ""),
        errors=problem.errors if problem else {},
        values=problem.values if problem else {},
    )
    browser_binding.set_cookie(
        response, csrf.COOKIE, browser_value, max_age=csrf.MAX_AGE, secure=_secure(runtime), path="/connect"
    )
    return response


def _finished(connected: flows.Connected, status_code: int) -> Response:
    """Redirect to `next`; a popup (or an email sender with a DNS step) gets a page first."""
    if not connected.popup and connected.dns_url is None:
        return RedirectResponse(connected.location, status_code=status_code)
    return pages.render(
        "done.html",
        name=card(connected.kind).name,
        kind=connected.kind,
        integration_id=connected.integration_id,
        location=connected.location,
        popup=connected.popup,
        origin=connected.opener_origin,
        dns_url=connected.dns_url,
        dns_provider=connected.dns_provider,
    )


@page_router.get("/connect/{token}")
async def connect_page(
    token: str, request: Request, runtime: Runtime = Depends(get_runtime), mode: str | None = Query(None)
) -> Response:
    try:
        opened = await service.open_session(runtime, token)
    except PageProblem as found:
        return pages.problem(found)
    browser_value = browser_binding.value_for(request.cookies.get(csrf.COOKIE))
    return _choose_page(runtime, opened, browser_value, mode == POPUP)


@page_router.get("/connect/{token}/oauth/{kind}")
async def connect_oauth_start(
    token: str,
    kind: str,
    request: Request,
    runtime: Runtime = Depends(get_runtime),
    mode: str | None = Query(None),
) -> Response:
    try:
        opened = await service.open_session(runtime, token)
        started = await flows.start_oauth(
            runtime, opened, kind, mode == POPUP, request.cookies.get(STATE_COOKIE)
        )
    except PageProblem as found:
        return pages.problem(found)
    response = RedirectResponse(started.location, status_code=302)
    browser_binding.set_cookie(
        response,
        STATE_COOKIE,
        started.browser_value,
        max_age=int(STATE_TTL.total_seconds()),
        secure=_secure(runtime),
    )
    return response


async def _form(request: Request) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    raw = (await request.body()).decode(errors="replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


@page_router.post("/connect/{token}/kinds/{kind}")
async def connect_credentials(
    token: str, kind: str, request: Request, runtime: Runtime = Depends(get_runtime)
) -> Response:
    form = await _form(request)
    popup = form.get("mode") == POPUP
    try:
        opened = await service.open_session(runtime, token)
        cookie = request.cookies.get(csrf.COOKIE)
        if not csrf.is_valid(runtime, cookie, form.get(csrf.FIELD), opened.row.id):
            raise PageProblem(
                403,
                "This form could not be sent",
                "The page was open too long or came from somewhere else. Nothing was connected; "
                "open the page again and resend the form.",
                flows.retry_url(token, popup),
            )
        connected = await flows.submit_credentials(runtime, opened, kind, form, popup)
    except PageProblem as found:
        return pages.problem(found)
    except FormProblem as problem:
        assert cookie is not None
        return _choose_page(runtime, opened, cookie, popup, problem)
    return _finished(connected, 303)


@on_callback
async def oauth_return(runtime: Runtime, kind: str, request: Request) -> Response | None:
    """The provider's return (`/integrations/{kind}/callback`) to a flow a connect page started;
    None for every other flow."""
    params: dict[str, Any] = dict(request.query_params)
    try:
        connected = await flows.finish_oauth(runtime, kind, params, request.cookies.get(STATE_COOKIE))
    except PageProblem as found:
        return pages.problem(found)
    if connected is None:
        return None
    return _finished(connected, 302)
