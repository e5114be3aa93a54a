"""ClickUp API v2 hierarchy reads (workspaces, spaces, folders, lists)."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, json_object, send
from patchbay.kit.retry import read_with_retries

DEFAULT_API_URL = "https://api.clickup.com/api"

# ECODEs that mean the token itself is gone (missing, not found, revoked): reconnect needed.
TOKEN_ECODES = frozenset({"OAUTH_017", "OAUTH_019", "OAUTH_021", "OAUTH_025", "OAUTH_077"})


def api_url(settings: Settings) -> str:
    return (settings.kind_setting("clickup", "API_URL") or DEFAULT_API_URL).rstrip("/")


def classify(response: httpx.Response) -> UpstreamError | None:
    error = classify_status("clickup", response)
    if error is None or response.status_code != 401:
        return error
    # ClickUp answers 401 both for a dead token and for a workspace this token was never granted
    # ("Team not authorized", OAUTH_023..045): only the former means the integration is broken.
    try:
        body = json_body("clickup", response)
    except UpstreamError:
        return error
    ecode = str(body.get("ECODE", "")) if isinstance(body, dict) else ""
    if ecode and ecode not in TOKEN_ECODES:
        return UpstreamError("clickup", Failure.PERMISSION, ecode, provider_code=ecode)
    return UpstreamError("clickup", Failure.AUTH, ecode or "http 401", provider_code=ecode or None)


class ClickUpClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _get(self, path: str, key: str) -> list[dict[str, Any]]:
        async def once() -> list[dict[str, Any]]:
            response = await send(self.http, "clickup", "GET", path)
            error = classify(response)
            if error is not None:
                raise error
            items = json_object("clickup", response, key)[key]
            if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
                raise UpstreamError("clickup", Failure.UNAVAILABLE, "unexpected body shape")
            return items

        return await read_with_retries(once)

    async def workspaces(self) -> list[dict[str, Any]]:
        return [{"id": str(t["id"]), "name": t.get("name", "")} for t in await self._get("/v2/team", "teams")]

    async def spaces(self, workspace_id: str) -> list[dict[str, Any]]:
        items = await self._get(f"/v2/team/{workspace_id}/space", "spaces")
        return [{"id": str(s["id"]), "name": s.get("name", "")} for s in items]

    async def lists(self, space_id: str) -> list[dict[str, Any]]:
        """Lists inside each folder (with folder_id/folder_name), then folderless lists."""
        result: list[dict[str, Any]] = []
        for folder in await self._get(f"/v2/space/{space_id}/folder", "folders"):
            for item in folder.get("lists") or []:
                result.append(
                    {
                        "id": str(item["id"]),
                        "name": item.get("name", ""),
                        "folder_id": str(folder["id"]),
                        "folder_name": folder.get("name", ""),
                    }
                )
        for item in await self._get(f"/v2/space/{space_id}/list", "lists"):
            result.append({"id": str(item["id"]), "name": item.get("name", "")})
        return result


def clickup_http(settings: Settings, token: str, *, timeout: float) -> httpx.AsyncClient:
    return outbound_client(
        timeout=httpx.Timeout(timeout),
        base_url=api_url(settings),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
