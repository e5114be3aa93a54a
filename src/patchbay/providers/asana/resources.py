"""Asana's one resource route: `GET .../integrations/{id}/asana_workspaces`, the workspaces (and
organizations) the connected user belongs to, read from `GET /api/1.0/workspaces` page by page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.schemas import IdName

DEFAULT_API_URL = "https://app.asana.com"
PAGE_SIZE = 100
MAX_PAGES = 10


class AsanaWorkspacesResponse(BaseModel):
    """Asana workspaces and organizations the connected user belongs to."""

    workspaces: list[IdName]


def api_url(settings: Settings) -> str:
    """PATCHBAY_ASANA_API_URL moves every Asana call (the sandbox sets it)."""
    return (settings.kind_setting("asana", "API_URL") or DEFAULT_API_URL).rstrip("/")


async def _page(http: httpx.AsyncClient, offset: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": PAGE_SIZE, **({"offset": offset} if offset else {})}

    async def once() -> dict[str, Any]:
        response = await send(http, "asana", "GET", "/api/1.0/workspaces", params=params)
        error = classify_status("asana", response)
        if error is not None:
            raise error
        body = json_object("asana", response, "data")
        if not isinstance(body["data"], list):
            raise UpstreamError("asana", Failure.UNAVAILABLE, "unexpected body shape")
        return body

    return await read_with_retries(once)


class AsanaHealth:
    """`HealthCheck`: one workspace (`limit=1`), the cheapest call the granted scopes allow."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        token = secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError("asana", Failure.AUTH, "no access token")
        headers = {"Authorization": f"Bearer {token}"}
        async with outbound_client(timeout=float(settings.http_timeout), headers=headers) as http:
            response = await send(http, "asana", "GET", f"{api_url(settings)}/api/1.0/workspaces", params={"limit": 1})
        error = classify_status("asana", response)
        if error is not None:
            raise error
        json_object("asana", response, "data")


async def list_workspaces(settings: Settings, token: str, *, http_timeout: float) -> list[dict[str, Any]]:
    workspaces: list[dict[str, Any]] = []
    offset: str | None = None
    async with outbound_client(
        timeout=httpx.Timeout(http_timeout), base_url=api_url(settings), headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for _ in range(MAX_PAGES):
            body = await _page(http, offset)
            for item in body["data"]:
                if isinstance(item, dict) and item.get("gid"):
                    workspaces.append({"id": str(item["gid"]), "name": str(item.get("name", ""))})
            next_page = body.get("next_page")
            offset = next_page.get("offset") if isinstance(next_page, dict) else None
            if not offset:
                break
    return workspaces


async def asana_workspaces(session: ResourceSession) -> dict[str, Any]:
    """Asana workspaces (and organizations) the connected user belongs to. Needs `integration:read`."""
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await list_workspaces(session.settings, token, http_timeout=session.http_timeout)

    return {"workspaces": await session.call(fetch, action="list workspaces")}


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="asana_workspaces",
            name="integrations_asana_workspaces_retrieve",
            response_model=AsanaWorkspacesResponse,
            handler=asana_workspaces,
            wrong_kind="asana_workspaces endpoint is only supported for Asana integrations",
            wrong_kind_attr="kind",
        ),
    ),
    # A token Asana refuses marks the integration, as for the other OAuth providers with lists.
    marks_integration_on_auth=True,
)
