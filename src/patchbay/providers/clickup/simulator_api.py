"""ClickUp API v2 hierarchy reads: /v2/team, /v2/team/{id}/space, /v2/space/{id}/folder and
/v2/space/{id}/list.

ClickUp's wire format: `Authorization: Bearer <token>` (or the raw token), real 4xx statuses with
`{"err": ..., "ECODE": ...}` bodies, 429 carrying `X-RateLimit-Reset` (Unix seconds) and no
`Retry-After`, full arrays without pagination.

Seed with `add_workspace`, `add_space`, `add_folder` and `add_list`; issue a token with
`issue_token` (or `state.issue_tokens("clickup", "clickup", {"team_ids": [...]})`; without
`team_ids` the token sees every workspace).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "clickup"
KIND_URLS = {"clickup": {"API_URL": "/api"}}

_API_PATHS = ("/v2/team", "/v2/space")


def _error(status: int, err: str, ecode: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"err": err, "ECODE": ecode}, status_code=status, headers=headers)


def render_fault(fault: Fault, request: Request) -> Response | None:
    path = request.url.path
    if not any(p in path for p in _API_PATHS):
        return None  # OAuth and identity paths: clickup_oauth renders them
    if fault.mode in {"401", "revoked"}:
        return _error(401, "Token invalid", "OAUTH_025")
    if fault.mode == "403":
        return _error(403, "Team not authorized", "OAUTH_027")
    if fault.mode == "429":
        reset = int(time.time()) + fault.retry_after
        return _error(
            429,
            "Rate limit reached",
            "APP_002",
            headers={
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            },
        )
    if fault.mode in {"500", "503"}:
        return _error(int(fault.mode), "Internal Server Error", "SERV_001")
    return None


# --- seeding ----------------------------------------------------------------------------------


def _teams(state: SandboxState) -> dict[str, dict[str, Any]]:
    return state.provider_data(NAME).setdefault("teams", {})  # type: ignore[no-any-return]


def _spaces(state: SandboxState) -> dict[str, dict[str, Any]]:
    return state.provider_data(NAME).setdefault("spaces", {})  # type: ignore[no-any-return]


def _new_id() -> str:
    return str(secrets.randbelow(10**8) + 10**7)


def add_workspace(state: SandboxState, name: str, workspace_id: str | None = None) -> str:
    workspace_id = workspace_id or _new_id()
    _teams(state)[workspace_id] = {
        "id": workspace_id,
        "name": name,
        "color": "#536cfe",
        "avatar": None,
        "members": [{"user": {"id": 183, "username": "Sandbox User", "color": "#000000"}}],
        "_spaces": [],
    }
    return workspace_id


def add_space(state: SandboxState, workspace_id: str, name: str, space_id: str | None = None) -> str:
    space_id = space_id or _new_id()
    _spaces(state)[space_id] = {
        "id": space_id,
        "name": name,
        "private": False,
        "color": None,
        "avatar": None,
        "admin_can_manage": True,
        "archived": False,
        "multiple_assignees": False,
        "statuses": [{"status": "to do", "type": "open", "orderindex": 0, "color": "#d3d3d3"}],
        "features": {"due_dates": {"enabled": False}, "tags": {"enabled": False}},
        "_team": workspace_id,
        "_folders": [],
        "_lists": [],
    }
    _teams(state)[workspace_id]["_spaces"].append(space_id)
    return space_id


def add_folder(state: SandboxState, space_id: str, name: str, folder_id: str | None = None) -> str:
    space = _spaces(state)[space_id]
    folder_id = folder_id or _new_id()
    space["_folders"].append(
        {
            "id": folder_id,
            "name": name,
            "orderindex": len(space["_folders"]),
            "override_statuses": False,
            "hidden": False,
            "space": {"id": space_id, "name": space["name"], "access": True},
            "task_count": "0",
            "archived": False,
            "lists": [],
        }
    )
    return folder_id


def add_list(
    state: SandboxState, space_id: str, name: str, *, folder_id: str | None = None, list_id: str | None = None
) -> str:
    space = _spaces(state)[space_id]
    list_id = list_id or _new_id()
    item: dict[str, Any] = {
        "id": list_id,
        "name": name,
        "orderindex": 0,
        "content": "",
        "status": None,
        "priority": None,
        "assignee": None,
        "task_count": None,
        "due_date": None,
        "start_date": None,
        "space": {"id": space_id, "name": space["name"], "access": True},
        "archived": False,
        "override_statuses": False,
        "permission_level": "create",
    }
    if folder_id is None:
        item["folder"] = {"id": _new_id(), "name": "hidden", "hidden": True, "access": True}
        space["_lists"].append(item)
    else:
        folder = next(f for f in space["_folders"] if f["id"] == folder_id)
        item["folder"] = {"id": folder_id, "name": folder["name"], "hidden": False, "access": True}
        folder["lists"].append(item)
    return list_id


def issue_token(state: SandboxState, team_ids: list[str] | None = None, user_id: int = 183) -> str:
    account: dict[str, Any] = {"user": {"id": user_id, "email": "sandbox@example.com"}}
    if team_ids is not None:
        account["team_ids"] = team_ids
    access, _ = state.issue_tokens(NAME, "clickup", account, expires=False, prefix="clickup")
    return access


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


# --- routes -----------------------------------------------------------------------------------


def routes(state: SandboxState) -> list[BaseRoute]:
    def authenticate(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        header = request.headers.get("authorization", "").strip()
        if not header:
            return None, _error(401, "Authorization header required", "OAUTH_017")
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        with state.lock:
            issued = state.tokens.get(token)
        if issued is None or issued.provider != NAME:
            return None, _error(401, "Token invalid", "OAUTH_025")
        if issued.revoked:
            return None, _error(401, "Oauth token not found", "OAUTH_019")
        return issued.account, None

    def team_allowed(account: dict[str, Any], team_id: str) -> bool:
        allowed = account.get("team_ids")
        return allowed is None or team_id in [str(t) for t in allowed]

    def archived_filter(request: Request) -> bool:
        return request.query_params.get("archived", "false").lower() == "true"

    async def teams(request: Request) -> Response:
        account, error = authenticate(request)
        if account is None:
            return error or _error(401, "Token invalid", "OAUTH_025")
        visible = [_public(t) for tid, t in _teams(state).items() if team_allowed(account, tid)]
        return JSONResponse({"teams": visible})

    async def spaces(request: Request) -> Response:
        account, error = authenticate(request)
        if account is None:
            return error or _error(401, "Token invalid", "OAUTH_025")
        team_id = request.path_params["team_id"]
        team = _teams(state).get(team_id)
        if team is None:
            return _error(404, "Team not found", "TEAM_015")
        if not team_allowed(account, team_id):
            return _error(401, "Team not authorized", "OAUTH_027")
        archived = archived_filter(request)
        items = [_spaces(state)[sid] for sid in team["_spaces"]]
        return JSONResponse({"spaces": [_public(s) for s in items if s["archived"] == archived]})

    def space_for(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        account, error = authenticate(request)
        if account is None:
            return None, error
        space = _spaces(state).get(request.path_params["space_id"])
        if space is None:
            return None, _error(404, "Space not found", "SPAC_020")
        if not team_allowed(account, space["_team"]):
            return None, _error(401, "Team not authorized", "OAUTH_027")
        return space, None

    async def folders(request: Request) -> Response:
        space, error = space_for(request)
        if space is None:
            return error or _error(401, "Token invalid", "OAUTH_025")
        archived = archived_filter(request)
        return JSONResponse({"folders": [f for f in space["_folders"] if f["archived"] == archived]})

    async def lists(request: Request) -> Response:
        space, error = space_for(request)
        if space is None:
            return error or _error(401, "Token invalid", "OAUTH_025")
        archived = archived_filter(request)
        return JSONResponse({"lists": [item for item in space["_lists"] if item["archived"] == archived]})

    return [
        Route("/api/v2/team", teams, methods=["GET"]),
        Route("/api/v2/team/{team_id}/space", spaces, methods=["GET"]),
        Route("/api/v2/space/{space_id}/folder", folders, methods=["GET"]),
        Route("/api/v2/space/{space_id}/list", lists, methods=["GET"]),
    ]


def seed_demo(state: SandboxState) -> None:
    """A workspace with a space, a folder of lists and a folderless list."""
    workspace = add_workspace(state, "Sandbox Workspace")
    space = add_space(state, workspace, "Product")
    folder = add_folder(state, space, "Roadmap")
    add_list(state, space, "Now", folder_id=folder)
    add_list(state, space, "Next", folder_id=folder)
    add_list(state, space, "Inbox")
