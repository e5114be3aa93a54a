"""Customer.io on loopback, both regions under one prefix (/app/us, /app/eu, /track/us, /track/eu):
the App API's workspace list (Bearer app API key) and the Track API's account region (HTTP Basic
site_id:api_key). A credential answers only in its own region, as Customer.io's do."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "customerio"
KIND_URLS = {
    "customerio-app": {"API_URL": "/app/us", "EU_API_URL": "/app/eu"},
    "customerio-track": {"API_URL": "/track/us", "EU_API_URL": "/track/eu"},
}
TRACK_HOSTS = {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}


def _unauthorized() -> JSONResponse:
    return JSONResponse({"meta": {"error": "Unauthorized request"}}, status_code=401)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _unauthorized()
    if fault.mode == "429":
        return JSONResponse(
            {"meta": {"error": "Too many requests"}}, status_code=429, headers={"Retry-After": str(fault.retry_after)}
        )
    return None


def add_app_key(state: SandboxState, region: str = "us", key: str | None = None, workspace: str = "Sandbox") -> str:
    app_key = key or "cio-app-" + secrets.token_hex(16)
    state.provider_data(NAME).setdefault("app_keys", {})[app_key] = {"region": region, "workspace": workspace}
    return app_key


def add_site(state: SandboxState, region: str = "us", api_key: str | None = None) -> tuple[str, str]:
    """A workspace's site id and Track API key."""
    site_id, key = secrets.token_hex(10), api_key or secrets.token_hex(10)
    sites = state.provider_data(NAME).setdefault("sites", {})
    sites[site_id] = {"api_key": key, "region": region, "environment_id": len(sites) + 1}
    return site_id, key


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def routes(state: SandboxState) -> list[BaseRoute]:
    async def workspaces(request: Request) -> Response:
        region = request.path_params["region"]
        header = request.headers.get("authorization", "")
        found: dict[str, Any] | None = state.provider_data(NAME).get("app_keys", {}).get(header.removeprefix("Bearer "))
        if not header.startswith("Bearer ") or found is None or found["region"] != region:
            return _unauthorized()
        workspace = {"id": 1, "name": found["workspace"], "messages_sent": 0, "billable_messages_sent": 0}
        return JSONResponse({"workspaces": [workspace]})

    async def account_region(request: Request) -> Response:
        region = request.path_params["region"]
        pair = _basic(request)
        site = state.provider_data(NAME).get("sites", {}).get(pair[0]) if pair else None
        if pair is None or site is None or site["api_key"] != pair[1] or site["region"] != region:
            return _unauthorized()
        return JSONResponse(
            {"url": TRACK_HOSTS[region], "data_center": region, "environment_id": site["environment_id"]}
        )

    return [
        Route("/app/{region:str}/v1/workspaces", workspaces),
        Route("/track/{region:str}/api/v1/accounts/region", account_region),
    ]


DEMO_APP_API_KEY = "cio-app-sandbox-key"
DEMO_SITE_ID, DEMO_TRACK_API_KEY = "sandboxsiteid", "sandbox-track-api-key"


def seed_demo(state: SandboxState) -> None:
    add_app_key(state, "us", DEMO_APP_API_KEY)
    sites = state.provider_data(NAME).setdefault("sites", {})
    sites[DEMO_SITE_ID] = {"api_key": DEMO_TRACK_API_KEY, "region": "us", "environment_id": 1}
