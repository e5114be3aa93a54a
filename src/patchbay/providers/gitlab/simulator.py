"""A GitLab instance on loopback (`{sandbox}/gitlab` is the hostname a user types in):
`GET /api/v4/projects/{id or url-encoded path}` and `GET /api/v4/user`, authenticated with the
`PRIVATE-TOKEN` header as GitLab's REST API is. Errors are GitLab's `{"message": "401 Unauthorized"}`
and `{"message": "404 Project Not Found"}`.

Seed with `add_project(state, "group/project", token)` (answers the project's numeric id).
Hosts typed in by users must be https and public: the sandbox sets PATCHBAY_GITLAB_ALLOW_HTTP, and
loopback has to be allowed with PATCHBAY_USER_HOST_ALLOWED_NETWORKS (tests do both).
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "gitlab"
KIND_URLS: dict[str, dict[str, str]] = {}  # the user types the host in; nothing to configure
_ids = itertools.count(278_964)


def extra_env(base_url: str) -> dict[str, str]:
    return {"PATCHBAY_GITLAB_ALLOW_HTTP": "true"}


def hostname(base_url: str) -> str:
    return f"{base_url}/{NAME}"


def add_project(state: SandboxState, path: str, token: str) -> int:
    project_id = next(_ids)
    group, _, name = path.rpartition("/")
    project = {
        "id": project_id,
        "name": name,
        "name_with_namespace": f"{group.replace('/', ' / ')} / {name}" if group else name,
        "path": name,
        "path_with_namespace": path,
        "default_branch": "main",
        "web_url": f"https://gitlab.example.com/{path}",
        "token": token,
    }
    state.provider_data(NAME).setdefault("projects", []).append(project)
    return project_id


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
    if fault.mode == "403":
        return JSONResponse({"message": "403 Forbidden"}, status_code=403)
    if fault.mode == "429":
        return JSONResponse(
            {"message": "Retry later"}, status_code=429, headers={"Retry-After": str(fault.retry_after)}
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    def projects() -> list[dict[str, Any]]:
        return list(state.provider_data(NAME).get("projects", []))

    def known_token(request: Request) -> bool:
        token = request.headers.get("private-token", "")
        return bool(token) and any(p["token"] == token for p in projects())

    async def project(request: Request) -> Response:
        if not known_token(request):
            return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
        wanted = unquote(request.path_params["project"])
        token = request.headers["private-token"]
        for found in projects():
            if wanted in (str(found["id"]), found["path_with_namespace"]) and found["token"] == token:
                return JSONResponse({k: v for k, v in found.items() if k != "token"})
        return JSONResponse({"message": "404 Project Not Found"}, status_code=404)

    async def user(request: Request) -> Response:
        if not known_token(request):
            return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
        return JSONResponse(
            {"id": 1, "username": "project_278964_bot", "name": "Sandbox bot", "state": "active"}
        )

    return [
        Route("/api/v4/projects/{project:path}", project, methods=["GET"]),
        Route("/api/v4/user", user, methods=["GET"]),
    ]
