"""Jira Cloud's project search on loopback, beside the Atlassian OAuth simulator (`/oauth/jira`,
sandbox/providers/generic_oauth.py): `GET /oauth/jira/ex/jira/{cloud_id}/rest/api/3/project/search`
with `startAt`/`maxResults` paging (`isLast`), the token minted by that simulator as a bearer.
Errors are Atlassian's `{"code", "message"}`. Seed with `add_project(state, key, name)`."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SandboxState

NAME = "oauth"  # shares the generic OAuth simulator's prefix: the kind's API URL is /oauth/jira
KIND_URLS: dict[str, dict[str, str]] = {}
_ids = itertools.count(10_000)


def add_project(state: SandboxState, key: str, name: str) -> str:
    project_id = str(next(_ids))
    state.provider_data("jira").setdefault("projects", []).append(
        {"id": project_id, "key": key, "name": name}
    )
    return project_id


def set_page_size(state: SandboxState, size: int) -> None:
    state.provider_data("jira")["page_size"] = size


def routes(state: SandboxState) -> list[BaseRoute]:
    async def search(request: Request) -> Response:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None or issued.kind != "jira":
            return JSONResponse({"code": 401, "message": "Unauthorized"}, status_code=401)
        if request.path_params["cloud_id"] != issued.account.get("cloud_id"):
            return JSONResponse({"code": 404, "message": "Site not found"}, status_code=404)
        data = state.provider_data("jira")
        every: list[dict[str, Any]] = list(data.get("projects", []))
        size = min(int(request.query_params.get("maxResults", 50)), int(data.get("page_size", 50)))
        start = int(request.query_params.get("startAt", 0))
        chunk = every[start : start + size]
        return JSONResponse(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(every),
                "isLast": start + size >= len(every),
                "values": [
                    {**p, "self": f"https://example.atlassian.net/rest/api/3/project/{p['id']}"}
                    for p in chunk
                ],
            }
        )

    return [Route("/jira/ex/jira/{cloud_id}/rest/api/3/project/search", search, methods=["GET"])]
