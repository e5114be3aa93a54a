"""GitHub on loopback, as a GitHub App sees it.

- `GET /apps/{slug}/installations/new?state=` — the install page: "installs" the app at once on the
  next sandbox account and sends the browser to the app's Setup URL with
  `installation_id`, `setup_action=install` and the `state`, as GitHub does.
- `GET /api/app/installations/{id}`, `POST /api/app/installations/{id}/access_tokens` (201),
  `DELETE /api/app/installations/{id}` — the app's JWT is verified (RS256, the sandbox app's public
  key, issuer = app id, `exp` at most ten minutes ahead), as GitHub does.
- `GET /api/installation/repositories?per_page=&page=` — an installation token; pages with `Link`.
- `GET /api/repos/{owner}/{repo}`, `GET /api/repos/{owner}/{repo}/branches`, `GET /api/orgs/{org}/teams`
  — an installation token; a repository or organization the installation cannot reach is a 404;
  lists are bare arrays paged with `Link`, as GitHub's.

Errors are GitHub's `{"message", "documentation_url", "status"}`. The sandbox app's id and private key
reach Patchbay through `extra_env` (PATCHBAY_GITHUB_APP_ID, PATCHBAY_GITHUB_APP_PRIVATE_KEY).
Seed with `add_installation(state, login, repositories=[...])` (each repository has `main`),
`set_branches(state, "owner/repo", [...], default=)`, `add_team(state, org, slug)`; `next_install(state, login, ...)`
sets what the install page creates; `set_setup_url(state, url)` moves the redirect.
"""

from __future__ import annotations

import functools
import itertools
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, Fault, SandboxState

NAME = "github"
SLUG = "patchbay-sandbox"
APP_ID = "424242"
KIND_URLS = {"github": {"AUTHORIZE_URL": f"/apps/{SLUG}/installations/new", "API_URL": "/api", "WEB_URL": ""}}
DEFAULT_SETUP_URL = "http://127.0.0.1:8000/integrations/github/callback"
DOCS = "https://docs.github.com/rest"
DEFAULT_PAGE = 30
_ids = itertools.count(50_000_001)
_repo_ids = itertools.count(700_000_001)
_team_ids = itertools.count(3_100_001)


@functools.cache
def _keypair() -> tuple[str, str]:
    """The sandbox app's key pair (made once per process): the private key for Patchbay, the public
    one to verify its JWTs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def extra_env(base_url: str) -> dict[str, str]:
    # One line (`\\n` escapes): `patchbay sandbox` prints these as a .env file.
    return {
        "PATCHBAY_GITHUB_APP_ID": APP_ID,
        "PATCHBAY_GITHUB_APP_PRIVATE_KEY": _keypair()[0].replace("\n", "\\n"),
    }


def _data(state: SandboxState) -> dict[str, Any]:
    return state.provider_data(NAME)


def add_installation(
    state: SandboxState,
    login: str = "sandbox-org",
    *,
    account_type: str = "Organization",
    repositories: list[str] | None = None,
) -> str:
    installation_id = str(next(_ids))
    repos = [_repo(login, name) for name in (repositories if repositories is not None else ["web", "api"])]
    _data(state).setdefault("installations", {})[installation_id] = {
        "id": int(installation_id),
        "account": {"login": login, "id": 9919, "type": account_type},
        "repository_selection": "selected",
        "permissions": {"contents": "read", "metadata": "read", "issues": "write"},
        "suspended": False,
        "repositories": repos,
    }
    return installation_id


def _repo(login: str, name: str) -> dict[str, Any]:
    return {
        "id": next(_repo_ids),
        "name": name,
        "full_name": f"{login}/{name}",
        "private": True,
        "default_branch": "main",
        "branches": ["main"],
    }


def set_branches(state: SandboxState, full_name: str, branches: list[str], default: str = "main") -> None:
    """The branches of a repository of any installation (GitHub lists them in name order)."""
    for found in _data(state).get("installations", {}).values():
        for repo in found["repositories"]:
            if repo["full_name"] == full_name:
                repo["branches"], repo["default_branch"] = sorted(branches), default


def add_team(state: SandboxState, organization: str, slug: str, name: str | None = None) -> int:
    teams = _data(state).setdefault("teams", {}).setdefault(organization, [])
    team_id = next(_team_ids)
    teams.append({"id": team_id, "node_id": f"T_{team_id}", "slug": slug, "name": name or slug, "privacy": "closed"})
    return team_id


def installation(state: SandboxState, installation_id: str) -> dict[str, Any]:
    return dict(_data(state).get("installations", {})[installation_id])


def suspend(state: SandboxState, installation_id: str) -> None:
    _data(state)["installations"][installation_id]["suspended"] = True


def uninstall(state: SandboxState, installation_id: str) -> None:
    _data(state).get("installations", {}).pop(installation_id, None)


def next_install(state: SandboxState, login: str, repositories: list[str] | None = None) -> None:
    _data(state)["next_install"] = {"login": login, "repositories": repositories}


def user_code(state: SandboxState, installation_ids: list[str]) -> str:
    """A user-authorization code for a person who can see these installations."""
    return state.issue_code(NAME, "github-user", {"installations": list(installation_ids)})


def set_setup_url(state: SandboxState, url: str) -> None:
    _data(state)["setup_url"] = url


def set_page_size(state: SandboxState, size: int) -> None:
    _data(state)["page_size"] = size


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"message": message, "documentation_url": DOCS, "status": str(status)}
    return JSONResponse(body, status_code=status, headers=headers)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error(401, "Bad credentials")
    if fault.mode == "403":
        return _error(403, "Resource not accessible by integration")
    if fault.mode == "429":
        reset = str(int(time.time()) + fault.retry_after)
        return _error(
            403,
            "API rate limit exceeded for installation.",
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        )
    return None


def _app_jwt_ok(request: Request) -> bool:
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(
            token, _keypair()[1], algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
        )
    except jwt.PyJWTError:
        return False
    return str(claims["iss"]) == APP_ID and int(claims["exp"]) - time.time() <= 600


def routes(state: SandboxState) -> list[BaseRoute]:
    def find(request: Request) -> dict[str, Any] | None:
        found = _data(state).get("installations", {}).get(request.path_params["installation_id"])
        return found if isinstance(found, dict) else None

    async def install_page(request: Request) -> Response:
        wanted = _data(state).pop("next_install", None) or {}
        installation_id = add_installation(
            state, wanted.get("login", "sandbox-org"), repositories=wanted.get("repositories")
        )
        setup = _data(state).get("setup_url", DEFAULT_SETUP_URL)
        params = {
            "installation_id": installation_id,
            "setup_action": "install",
            "code": user_code(state, [installation_id]),  # "request user authorization during installation"
        }
        if request.query_params.get("state"):
            params["state"] = request.query_params["state"]
        return RedirectResponse(f"{setup}?{urlencode(params)}", status_code=302)

    async def get_installation(request: Request) -> Response:
        if not _app_jwt_ok(request):
            return _error(401, "A JSON web token could not be decoded")
        found = find(request)
        if found is None:
            return _error(404, "Not Found")
        body = {k: v for k, v in found.items() if k not in {"repositories", "suspended"}}
        suspended_at = datetime.now(UTC).isoformat() if found["suspended"] else None
        return JSONResponse(
            {**body, "app_slug": SLUG, "target_type": found["account"]["type"], "suspended_at": suspended_at}
        )

    async def access_token(request: Request) -> Response:
        if not _app_jwt_ok(request):
            return _error(401, "A JSON web token could not be decoded")
        found = find(request)
        if found is None:
            return _error(404, "Not Found")
        if found["suspended"]:
            return _error(403, "This installation has been suspended")
        token, _ = state.issue_tokens(NAME, "github", {"installation_id": str(found["id"])}, prefix="ghs")
        expires = datetime.fromtimestamp(time.time() + state.token_lifetime, UTC)
        return JSONResponse(
            {
                "token": token,
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "permissions": found["permissions"],
                "repository_selection": found["repository_selection"],
            },
            status_code=201,
        )

    async def delete_installation(request: Request) -> Response:
        if not _app_jwt_ok(request):
            return _error(401, "A JSON web token could not be decoded")
        if find(request) is None:
            return _error(404, "Not Found")
        uninstall(state, request.path_params["installation_id"])
        return Response(status_code=204)

    async def repositories(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        issued = state.token(token)
        found = (
            _data(state).get("installations", {}).get(issued.account["installation_id"]) if issued else None
        )
        if issued is None or found is None:
            return _error(401, "Bad credentials")
        size = min(
            int(request.query_params.get("per_page", DEFAULT_PAGE)),
            100,
            int(_data(state).get("page_size", 100)),
        )
        page = max(1, int(request.query_params.get("page", 1)))
        every = found["repositories"]
        chunk = every[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(every):
            base = str(request.url).split("?", 1)[0]
            headers["link"] = f'<{base}?per_page={size}&page={page + 1}>; rel="next"'
        body = {
            "total_count": len(every),
            "repository_selection": found["repository_selection"],
            "repositories": [
                {**{k: v for k, v in repo.items() if k != "branches"}, "archived": False} for repo in chunk
            ],
        }
        return JSONResponse(body, headers=headers)

    def installation_of(request: Request) -> dict[str, Any] | None:
        """The installation an installation token belongs to (None: a bad token)."""
        issued = state.token(request.headers.get("authorization", "").removeprefix("Bearer ").strip())
        if issued is None or issued.kind != "github":
            return None
        found = _data(state).get("installations", {}).get(issued.account["installation_id"])
        return found if isinstance(found, dict) else None

    def reachable_repo(found: dict[str, Any], request: Request) -> dict[str, Any] | None:
        full_name = f"{request.path_params['owner']}/{request.path_params['repo']}".lower()
        return next((r for r in found["repositories"] if r["full_name"].lower() == full_name), None)

    def paged(request: Request, every: list[Any]) -> Response:
        size = min(
            int(request.query_params.get("per_page", DEFAULT_PAGE)), 100, int(_data(state).get("page_size", 100))
        )
        page = max(1, int(request.query_params.get("page", 1)))
        headers = {}
        if page * size < len(every):
            base = str(request.url).split("?", 1)[0]
            headers["link"] = f'<{base}?per_page={size}&page={page + 1}>; rel="next"'
        return JSONResponse(every[(page - 1) * size : page * size], headers=headers)

    async def repository(request: Request) -> Response:
        found = installation_of(request)
        if found is None:
            return _error(401, "Bad credentials")
        repo = reachable_repo(found, request)
        if repo is None:
            return _error(404, "Not Found")  # GitHub hides what the installation cannot reach
        return JSONResponse({k: v for k, v in repo.items() if k != "branches"})

    async def branches(request: Request) -> Response:
        found = installation_of(request)
        if found is None:
            return _error(401, "Bad credentials")
        repo = reachable_repo(found, request)
        if repo is None:
            return _error(404, "Not Found")
        every = [{"name": name, "commit": {"sha": f"{i:040x}"}, "protected": name == repo["default_branch"]}
                 for i, name in enumerate(repo["branches"], start=1)]  # fmt: skip
        return paged(request, every)

    async def teams(request: Request) -> Response:
        found = installation_of(request)
        if found is None:
            return _error(401, "Bad credentials")
        organization = request.path_params["org"]
        if found["account"]["login"].lower() != organization.lower():
            return _error(404, "Not Found")
        return paged(request, list(_data(state).get("teams", {}).get(found["account"]["login"], [])))

    async def user_token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if (params.get("client_id"), params.get("client_secret")) != (
            SANDBOX_CLIENT_ID,
            SANDBOX_CLIENT_SECRET,
        ):
            return JSONResponse(
                {
                    "error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed are incorrect.",
                }
            )
        code = state.redeem_code(params.get("code", ""))
        if code is None or code.get("provider") != NAME:
            # GitHub answers these with 200 and an `error`.
            return JSONResponse(
                {
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                }
            )
        token, _ = state.issue_tokens(
            NAME, "github-user", {"installations": code["installations"]}, prefix="ghu"
        )
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": ""})

    async def user_installations(request: Request) -> Response:
        issued = state.token(request.headers.get("authorization", "").removeprefix("Bearer ").strip())
        if issued is None or issued.kind != "github-user":
            return _error(401, "Bad credentials")
        every = _data(state).get("installations", {})
        visible = [
            {k: v for k, v in every[i].items() if k not in {"repositories", "suspended"}}
            for i in issued.account["installations"]
            if i in every
        ]
        return JSONResponse({"total_count": len(visible), "installations": visible})

    return [
        Route(f"/apps/{SLUG}/installations/new", install_page, methods=["GET"]),
        Route("/login/oauth/access_token", user_token, methods=["POST"]),
        Route("/api/user/installations", user_installations, methods=["GET"]),
        Route("/api/app/installations/{installation_id}", get_installation, methods=["GET"]),
        Route("/api/app/installations/{installation_id}", delete_installation, methods=["DELETE"]),
        Route("/api/app/installations/{installation_id}/access_tokens", access_token, methods=["POST"]),
        Route("/api/installation/repositories", repositories, methods=["GET"]),
        Route("/api/repos/{owner}/{repo}", repository, methods=["GET"]),
        Route("/api/repos/{owner}/{repo}/branches", branches, methods=["GET"]),
        Route("/api/orgs/{org}/teams", teams, methods=["GET"]),
    ]
