"""One Starlette app serving every provider simulator under its own path prefix.

Simulator modules come from two places: the provider packages (`registry.simulators()`, e.g.
`patchbay/providers/slack/simulator_api.py`) and, for generic OAuth providers of the catalogue,
`patchbay.sandbox.providers`. Each defines
  NAME: str                                 path prefix (`/slack`, `/clickup`, ...); several modules may
                                            share one NAME (e.g. slack_oauth.py and slack_api.py): their
                                            routes are merged under the one prefix
  KIND_URLS: dict[kind, dict[suffix, path]] e.g. {"slack": {"AUTHORIZE_URL": "/oauth/v2/authorize", "API_URL": "/api"}}
  def routes(state) -> list[BaseRoute]      routes relative to the prefix
  def render_fault(fault, request) -> Response | None   (optional) the provider's own wire format for
                                            the faults of its paths (None: the next module's turn)
  def extra_env(base_url) -> dict[str, str]             (optional) more settings for `serve --sandbox`
  def seed_demo(state) -> None                          (optional) demo data for `serve --sandbox`
Adding a simulator is adding a module there, or listing it in the provider package's `simulators`.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from patchbay.providers import registry
from patchbay.sandbox import providers as providers_pkg
from patchbay.simkit.state import Fault, SandboxState

FaultRenderer = Callable[[Fault, Request], Response | None]


def provider_modules() -> list[Any]:
    modules: list[Any] = list(registry.simulators())
    for info in sorted(pkgutil.iter_modules(providers_pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{providers_pkg.__name__}.{info.name}"))
    return modules


def generic_fault(fault: Fault) -> Response:
    if fault.mode == "malformed":
        return PlainTextResponse("<html>upstream garbage", status_code=200, media_type="application/json")
    if fault.mode == "429":
        return JSONResponse(
            {"error": "rate_limited"}, status_code=429, headers={"Retry-After": str(fault.retry_after)}
        )
    if fault.mode in {"401", "revoked"}:
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    if fault.mode == "403":
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return JSONResponse(
        {"error": "server_error"}, status_code=int(fault.mode) if fault.mode.isdigit() else 500
    )


async def _hang(state: SandboxState) -> None:
    """A hung provider: no answer for `timeout_seconds`, or until the sandbox stops (a request that
    uvicorn cancels at shutdown is logged as the app's error, one traceback per hung request)."""
    deadline = time.monotonic() + state.timeout_seconds
    # A flag, not an asyncio.Event: stop() runs on another thread than the sandbox's event loop.
    while not state.closing and (left := deadline - time.monotonic()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(min(0.05, left))


class FaultAndLogMiddleware:
    """Records every call and answers an injected fault instead of the real handler."""

    def __init__(self, app: ASGIApp, state: SandboxState, renderers: dict[str, list[FaultRenderer]]) -> None:
        self.app = app
        self.state = state
        self.renderers = renderers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__sim"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        provider = path.strip("/").split("/", 1)[0]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        query = (scope.get("query_string") or b"").decode("latin-1")
        self.state.record(provider, scope["method"], path, headers, query)
        if self.state.answer_delay > 0:
            await asyncio.sleep(self.state.answer_delay)
        fault = self.state.take_fault(provider, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.mode == "timeout":
            await _hang(self.state)
        request = Request(scope, receive)
        response: Response | None = None
        # Each module of the provider renders the faults of its own paths; the first answer wins.
        for render in self.renderers.get(provider, []):
            response = render(fault, request)
            if response is not None:
                break
        if response is None:
            response = generic_fault(fault)
        await response(scope, receive, send)


def control_routes(state: SandboxState) -> list[Route]:
    async def inject(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        try:
            state.inject(
                request.path_params["provider"],
                str(body["mode"]),
                int(body.get("count", 1)),
                str(body.get("path_contains", "")),
                int(body.get("retry_after", 7)),
            )
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    async def reset(_: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def calls(_: Request) -> Response:
        return JSONResponse([c.__dict__ for c in state.calls])

    return [
        Route("/__sim/{provider}/fault", inject, methods=["POST"]),
        Route("/__sim/reset", reset, methods=["POST"]),
        Route("/__sim/calls", calls, methods=["GET"]),
    ]


def create_sandbox_app(state: SandboxState | None = None) -> Starlette:
    state = state or SandboxState()
    grouped: dict[str, list[Any]] = {}
    fault_renderers: dict[str, list[FaultRenderer]] = {}
    for module in provider_modules():
        grouped.setdefault(module.NAME, []).extend(module.routes(state))
        if hasattr(module, "render_fault"):
            fault_renderers.setdefault(module.NAME, []).append(module.render_fault)
    routes: list[Any] = control_routes(state)
    for name, provider_routes in grouped.items():
        routes.append(Mount(f"/{name}", routes=provider_routes))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return FaultAndLogMiddleware(app, state, fault_renderers)  # type: ignore[return-value]


def kind_urls() -> dict[str, dict[str, str]]:
    """Every kind the sandbox serves, with its URL suffixes relative to the server's base URL."""
    result: dict[str, dict[str, str]] = {}
    for module in provider_modules():
        for kind, urls in getattr(module, "KIND_URLS", {}).items():
            # A kind may use several simulators (aws-s3: STS and S3): their URLs add up.
            result.setdefault(kind, {}).update(
                {suffix: f"/{module.NAME}{path}" for suffix, path in urls.items()}
            )
    return result
