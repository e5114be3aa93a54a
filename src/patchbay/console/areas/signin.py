"""Signing in and out, the console's entry point and its assets."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from patchbay.auth.service import client_address
from patchbay.console import csrf, pages, sessions
from patchbay.console.sessions import SignInRefused
from patchbay.console.web import (
    NOTICES,
    SIGN_IN,
    Browser,
    ConsoleRoute,
    PageError,
    posted,
    read_form,
    runtime_of,
)
from patchbay.kit import browser_binding
from patchbay.kit.errors import NotFound
from patchbay.runtime import Runtime

router = APIRouter(route_class=ConsoleRoute)


def _secure(runtime: Runtime) -> bool:
    return runtime.settings.site_origin.startswith("https://")


def _sign_in_page(
    runtime: Runtime,
    browser_value: str,
    status: int = 200,
    error: str = "",
    email: str = "",
    retry: int | None = None,
    notice: str | None = None,
) -> Response:
    response = pages.render(
        "sign_in.html",
        status,
        {"Retry-After": str(retry)} if retry else None,
        sign_in_csrf=csrf.sign_in_token(runtime, browser_value),
        error=error,
        email=email,
        notice=notice,
    )
    browser_binding.set_cookie(
        response,
        csrf.SIGN_IN_COOKIE,
        browser_value,
        max_age=csrf.SIGN_IN_MAX_AGE,
        secure=_secure(runtime),
        path="/console",
    )
    return response


@router.get("/console/static/{name}")
async def console_asset(name: str) -> Response:
    found = pages.asset(name)
    if found is None:
        raise NotFound()
    return found


@router.get("/console")
async def console_home(request: Request) -> Response:
    """The current project's integrations; the sign-in page when not signed in."""
    signed = await sessions.resolve(runtime_of(request), request.cookies.get(sessions.COOKIE))
    if signed is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    if signed.user.current_project_id is None:
        return RedirectResponse("/console/organizations", status_code=303)
    return RedirectResponse(
        f"/console/projects/{signed.user.current_project_id}/integrations", status_code=303
    )


@router.get("/console/sign-in")
async def sign_in_form(request: Request) -> Response:
    runtime = runtime_of(request)
    value = browser_binding.value_for(request.cookies.get(csrf.SIGN_IN_COOKIE))
    return _sign_in_page(runtime, value, notice=NOTICES.get(request.query_params.get("notice", "")))


@router.post("/console/sign-in")
async def sign_in(request: Request) -> Response:
    runtime = runtime_of(request)
    form = await read_form(request)
    cookie = request.cookies.get(csrf.SIGN_IN_COOKIE)
    submitted = (form.get(csrf.FIELD) or [""])[0]
    if not csrf.sign_in_form_valid(runtime, cookie, submitted):
        raise PageError(403, "This sign-in form could not be sent: open the sign-in page again.")
    assert cookie is not None
    email = (form.get("email") or [""])[0]
    password = (form.get("password") or [""])[0]
    try:
        token = await sessions.sign_in(
            runtime, email, password, client_address(request), request.cookies.get(sessions.COOKIE)
        )
    except SignInRefused as refused:
        return _sign_in_page(
            runtime, cookie, refused.status, refused.message, email[:254], refused.retry_after
        )
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=runtime.settings.console_session_max_hours * 3600,
        path="/console",
        samesite="lax",
        secure=_secure(runtime),
        httponly=True,
    )
    return response


@router.post("/console/sign-out")
async def sign_out(browser: Browser = Depends(posted)) -> Response:
    await sessions.sign_out(browser.runtime, browser.request.cookies.get(sessions.COOKIE))
    response = RedirectResponse(SIGN_IN + "?notice=signed-out", status_code=303)
    response.delete_cookie(
        sessions.COOKIE, path="/console", secure=_secure(browser.runtime), httponly=True, samesite="lax"
    )
    return response
