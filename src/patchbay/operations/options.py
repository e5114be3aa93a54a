"""OPTIONS, answered as Django REST framework answers it: an authenticated caller gets 200 and the
view's metadata (name, description, what it renders and parses) with `Allow`; without a valid key,
401 as for any other method."""

from __future__ import annotations

from fastapi import Request
from starlette.routing import Match

from patchbay.auth.service import authenticate
from patchbay.kit.errors import APIError
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.dependencies import request_session

MEDIA_TYPES = ["application/json"]  # every route renders and parses JSON only
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _view_name(route: object) -> str:
    """DRF names a view from its class ("Integration List"); ours from the route's operation id."""
    name = str(getattr(route, "name", "") or "")
    return name.replace("_", " ").strip().capitalize() or "API"


def _allowed_methods(request: Request) -> list[str]:
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return [*allowed, "OPTIONS"]


async def answer_options(request: Request) -> JSONResponse:
    """For a path some route serves with other methods (the router found it but not for OPTIONS)."""
    try:
        await authenticate(request, request.app.state.runtime, request_session(request))
    except APIError as exc:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers or None)
    route = request.scope.get("route")
    body = {
        "name": _view_name(route),
        "description": str(getattr(route, "description", "") or "").strip(),
        "renders": MEDIA_TYPES,
        "parses": MEDIA_TYPES,
    }
    return JSONResponse(body, headers={"Allow": ", ".join(_allowed_methods(request))})
