"""What every console page shares: the signed-in browser (a dependency), its forms (CSRF checked),
the tenant contexts built with tenancy's rules, rendering, and errors shown as pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from patchbay.console import csrf, sessions
from patchbay.console.pages import render, render_problem
from patchbay.console.sessions import SignedIn
from patchbay.kit.convertors import parse_row_id, parse_uuid
from patchbay.kit.errors import APIError, NotFound
from patchbay.runtime import Runtime
from patchbay.tenancy.context import OrganizationContext, ProjectContext
from patchbay.tenancy.dependencies import request_session
from patchbay.tenancy.service import organization_context_for_user, project_context_for_user

SIGN_IN = "/console/sign-in"
# Whatever a notice code names is fixed text: nothing from the query string reaches the page.
NOTICES = {
    "current": "This project is now your current project (what @current means in the API).",
    "deleted": "Deleted.",
    "revoked": "The key is revoked: the API refuses it from now on.",
    "connected": "Connected.",
    # After "Check now" (console/areas/integrations.py): the health status the check left.
    "checked-healthy": "Checked: the provider accepted the credentials. Health: Healthy.",
    "checked-refresh_failed": "Checked: the provider did not answer. Health: Refresh failed; try again later.",
    "checked-reauthorization_required": "Checked: the provider refused the credentials. Health: Reconnect needed.",
    "checked-unknown": "Checked: Patchbay has no verification call for this kind. Health: Unknown.",
    "ping": "A ping is queued for this endpoint; it shows below as soon as it is sent.",
    "redelivered": "The event is queued for delivery again.",
    "saved": "Saved.",
    "signed-out": "You are signed out.",
}


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ConsoleRoute(APIRoute):
    """Answers a console route's failures as pages: no session → the sign-in page; the domain's
    APIError (403, 404, 400 …) → a page with the API's own words; a malformed request → 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Redirect as found:
                return RedirectResponse(found.location, status_code=303)
            except PageError as found:
                return render_problem(found.status, found.message)
            except APIError as found:
                return render_problem(found.status_code, found.detail, found.headers)
            except RequestValidationError:
                return render_problem(400, "This request is not one the console understands.")

        return run


@dataclass
class Browser:
    """A request from a signed-in browser."""

    request: Request
    runtime: Runtime
    signed: SignedIn
    form: dict[str, list[str]] = field(default_factory=dict)
    _session: AsyncSession | None = None

    @property
    def user_id(self) -> int:
        return self.signed.user.id

    @property
    def csrf(self) -> str:
        return csrf.session_token(self.runtime, self.signed.token_hash)

    @property
    def db(self) -> AsyncSession:
        """The request's session (closed when the request ends), which contexts share."""
        if self._session is None:
            self._session = request_session(self.request)
        return self._session

    def value(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[0] if values else default

    def values(self, name: str) -> list[str]:
        return self.form.get(name, [])

    async def project(self, raw_id: str) -> ProjectContext:
        """The user's context on the project: the API's rules for a caller with every scope."""
        project_id = parse_row_id(raw_id)
        if project_id is None:
            raise NotFound("Project not found.")
        return await project_context_for_user(
            self.runtime,
            self.db,
            user_id=self.user_id,
            project_id=project_id,
            scopes=["*"],
            browser_session=True,
        )

    async def organization(self, raw_id: str) -> OrganizationContext:
        organization_id = parse_uuid(raw_id)
        if organization_id is None:
            raise NotFound("Organization not found.")
        return await organization_context_for_user(
            self.runtime, self.db, user_id=self.user_id, organization_id=organization_id
        )

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        return render(
            template,
            status,
            me=self.signed.user,
            csrf=self.csrf,
            notice=notice,
            path=self.request.url.path,
            **values,
        )


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read_form(request: Request) -> dict[str, list[str]]:
    """An urlencoded form, every value kept (checkbox lists); any other body is an empty form."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    form: dict[str, list[str]] = {}
    for name, value in parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)
    return form


async def signed_in(request: Request) -> Browser:
    """Dependency of every console page: the signed-in browser, else off to the sign-in page."""
    runtime = runtime_of(request)
    signed = await sessions.resolve(runtime, request.cookies.get(sessions.COOKIE))
    if signed is None:
        raise Redirect(SIGN_IN)
    return Browser(request, runtime, signed)


async def posted(request: Request) -> Browser:
    """Dependency of every console POST: signed in, and the form carries this session's token."""
    browser = await signed_in(request)
    browser.form = await read_form(request)
    if not csrf.session_form_valid(browser.runtime, browser.signed.token_hash, browser.value(csrf.FIELD)):
        raise PageError(
            403,
            "This form could not be sent: it was open too long or came from another site. Nothing changed.",
        )
    return browser


def back(location: str, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get: the page again, with a fixed notice."""
    return RedirectResponse(location + (f"?notice={notice}" if notice else ""), status_code=303)
