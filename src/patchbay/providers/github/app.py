"""GitHub's REST API as a GitHub App uses it: the app's JWT (RS256, signed with the app's private
key) for `/app/installations/...`, installation tokens for everything else.

Settings (per-kind, read with `settings.kind_setting("github", ...)`):
  PATCHBAY_GITHUB_APP_ID           the app's id (or its client id): the JWT's issuer
  PATCHBAY_GITHUB_APP_PRIVATE_KEY  the app's PEM private key (`\\n` escapes allowed)
  PATCHBAY_GITHUB_APP_SLUG         the app's URL name: the install page is github.com/apps/<slug>/installations/new
  PATCHBAY_GITHUB_AUTHORIZE_URL    the full install page URL instead (the sandbox sets it)
  PATCHBAY_GITHUB_API_URL          the API base, default https://api.github.com
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, send
from patchbay.kit.retry import read_with_retries
from patchbay.kit.retry_after import retry_after_seconds

KIND = "github"
DEFAULT_API_URL = "https://api.github.com"
INSTALL_PAGE = "https://github.com/apps/{slug}/installations/new"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# GitHub refuses an `exp` more than ten minutes ahead and recommends an `iat` a minute back (clock drift).
JWT_PAST = 60
JWT_LIFETIME = 540
PER_PAGE = 100
MAX_PAGES = 50


def api_url(settings: Settings) -> str:
    return (settings.kind_setting(KIND, "API_URL") or DEFAULT_API_URL).rstrip("/")


def app_id(settings: Settings) -> str | None:
    return settings.kind_setting(KIND, "APP_ID")


def private_key(settings: Settings) -> str | None:
    value = settings.kind_setting(KIND, "APP_PRIVATE_KEY")
    return value.replace("\\n", "\n") if value else None


def install_page(settings: Settings) -> str | None:
    explicit = settings.kind_setting(KIND, "AUTHORIZE_URL")
    if explicit:
        return explicit
    slug = settings.kind_setting(KIND, "APP_SLUG")
    return INSTALL_PAGE.format(slug=slug) if slug else None


def configured(settings: Settings) -> bool:
    return bool(app_id(settings) and private_key(settings) and install_page(settings))


def app_jwt(settings: Settings, now: float | None = None) -> str:
    """The app's own credential, good for nine minutes. Never logged, never stored."""
    issued = int(now if now is not None else time.time()) - JWT_PAST
    claims = {"iat": issued, "exp": issued + JWT_PAST + JWT_LIFETIME, "iss": app_id(settings)}
    return jwt.encode(claims, private_key(settings) or "", algorithm="RS256")


def classify(response: httpx.Response) -> UpstreamError | None:
    """GitHub's failures: a rate limit may come as 403 (remaining 0, retry-after or the words in the
    body), which is not a permission problem."""
    if response.status_code == 403:
        text = response.text.lower()
        limited = (
            response.headers.get("retry-after")
            or response.headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in text
            or "abuse detection" in text
        )
        if limited:
            return UpstreamError(
                KIND, Failure.RATE_LIMITED, "http 403", retry_after=retry_after_seconds(response)
            )
        if "suspended" in text:
            return UpstreamError(KIND, Failure.AUTH, "installation suspended", retryable=False)
    return classify_status(KIND, response)


def _client(settings: Settings, bearer: str) -> httpx.AsyncClient:
    return outbound_client(
        timeout=settings.http_timeout,
        base_url=api_url(settings),
        headers={**API_HEADERS, "Authorization": f"Bearer {bearer}"},
    )


def _object(response: httpx.Response) -> dict[str, Any]:
    error = classify(response)
    if error is not None:
        raise error
    body = json_body(KIND, response)
    if not isinstance(body, dict):
        raise UpstreamError(KIND, Failure.UNAVAILABLE, "unexpected body shape")
    return body


async def get_installation(settings: Settings, installation_id: str) -> dict[str, Any]:
    async with _client(settings, app_jwt(settings)) as http:
        return _object(await send(http, KIND, "GET", f"/app/installations/{installation_id}"))


async def create_installation_token(settings: Settings, installation_id: str) -> dict[str, Any]:
    """`{"token", "expires_at", "permissions", "repository_selection"}`: an hour of access."""
    async with _client(settings, app_jwt(settings)) as http:
        body = _object(await send(http, KIND, "POST", f"/app/installations/{installation_id}/access_tokens"))
    if not isinstance(body.get("token"), str) or not body["token"] or not body.get("expires_at"):
        raise UpstreamError(KIND, Failure.UNAVAILABLE, "token answer without a token")
    return body


async def delete_installation(settings: Settings, installation_id: str) -> None:
    async with _client(settings, app_jwt(settings)) as http:
        response = await send(http, KIND, "DELETE", f"/app/installations/{installation_id}")
    if response.status_code not in (204, 404):
        raise classify(response) or UpstreamError(KIND, Failure.UNAVAILABLE, f"http {response.status_code}")


def _has_next(response: httpx.Response) -> bool:
    return 'rel="next"' in response.headers.get("link", "")


async def list_repositories(settings: Settings, token: str) -> list[dict[str, Any]]:
    """Every repository the installation can reach, `{"id", "name", "full_name"}`, page by page
    (page numbers counted here: the provider's Link URLs are never followed)."""
    repositories: list[dict[str, Any]] = []
    async with _client(settings, token) as http:
        for page in range(1, MAX_PAGES + 1):
            items, more = await read_with_retries(lambda page=page: _repository_page(http, page))  # type: ignore[misc]
            repositories.extend(_repository(item) for item in items if _is_repository(item))
            if not more:
                break
    return repositories


async def _repository_page(http: httpx.AsyncClient, page: int) -> tuple[list[Any], bool]:
    params = {"per_page": PER_PAGE, "page": page}
    response = await send(http, KIND, "GET", "/installation/repositories", params=params)
    items = _object(response).get("repositories")
    if not isinstance(items, list):
        raise UpstreamError(KIND, Failure.UNAVAILABLE, "unexpected body shape")
    return items, _has_next(response)


def _is_repository(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and isinstance(item.get("id"), int)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("full_name"), str)
    )


def _repository(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item["name"], "full_name": item["full_name"]}


# --- branches and teams (GitHub answers these as bare lists, paged with Link) ----------------------
async def list_branches(settings: Settings, token: str, repo: str) -> list[str]:
    """Every branch name of `repo` (`owner/name`, checked by the caller), page by page."""
    items = await _list_pages(settings, token, f"/repos/{repo}/branches")
    return [item["name"] for item in items if isinstance(item, Mapping) and isinstance(item.get("name"), str)]


async def default_branch(settings: Settings, token: str, repo: str) -> str | None:
    async with _client(settings, token) as http:
        body = await read_with_retries(lambda: _get_object(http, f"/repos/{repo}"))
    value = body.get("default_branch")
    return value if isinstance(value, str) and value else None


async def list_teams(settings: Settings, token: str, organization: str) -> list[dict[str, Any]]:
    """Every team of the installation's organization, `{"id", "slug", "name"}`."""
    items = await _list_pages(settings, token, f"/orgs/{organization}/teams")
    return [
        {"id": item["id"], "slug": item["slug"], "name": item["name"]}
        for item in items
        if isinstance(item, Mapping)
        and isinstance(item.get("id"), int)
        and isinstance(item.get("slug"), str)
        and isinstance(item.get("name"), str)
    ]


async def _get_object(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    return _object(await send(http, KIND, "GET", path))


async def _list_pages(settings: Settings, token: str, path: str) -> list[Any]:
    found: list[Any] = []
    async with _client(settings, token) as http:
        for page in range(1, MAX_PAGES + 1):
            items, more = await read_with_retries(lambda page=page: _list_page(http, path, page))  # type: ignore[misc]
            found.extend(items)
            if not more:
                break
    return found


async def _list_page(http: httpx.AsyncClient, path: str, page: int) -> tuple[list[Any], bool]:
    response = await send(http, KIND, "GET", path, params={"per_page": PER_PAGE, "page": page})
    error = classify(response)
    if error is not None:
        raise error
    items = json_body(KIND, response)
    if not isinstance(items, list):
        raise UpstreamError(KIND, Failure.UNAVAILABLE, "unexpected body shape")
    return items, _has_next(response)


# --- the installing person (user-to-server OAuth of the same app) ----------------------------------
DEFAULT_WEB_URL = "https://github.com"


def user_verification(settings: Settings) -> tuple[str, str] | None:
    """The app's OAuth client (PATCHBAY_GITHUB_CLIENT_ID / _CLIENT_SECRET): when set, the person
    installing must prove with the redirect's `code` that they can see the installation."""
    client_id = settings.kind_setting(KIND, "CLIENT_ID")
    client_secret = settings.kind_setting(KIND, "CLIENT_SECRET")
    return (client_id, client_secret) if client_id and client_secret else None


def web_url(settings: Settings) -> str:
    return (settings.kind_setting(KIND, "WEB_URL") or DEFAULT_WEB_URL).rstrip("/")


async def user_token(settings: Settings, code: str) -> str | None:
    """Exchange the install redirect's code; None when GitHub refuses it (it answers 200 + `error`)."""
    client = user_verification(settings)
    if client is None:
        return None
    body = {"client_id": client[0], "client_secret": client[1], "code": code}
    async with outbound_client(timeout=settings.http_timeout, headers={"Accept": "application/json"}) as http:
        response = await send(http, KIND, "POST", f"{web_url(settings)}/login/oauth/access_token", json=body)
    error = classify_status(KIND, response)
    if error is not None and error.failure not in (Failure.AUTH, Failure.NOT_FOUND):
        raise error
    data = json_body(KIND, response) if error is None else {}
    token = data.get("access_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


async def user_can_see(settings: Settings, token: str, installation_id: str) -> bool:
    """Whether the installation is among those the person can reach (`GET /user/installations`)."""
    async with _client(settings, token) as http:
        for page in range(1, MAX_PAGES + 1):
            params = {"per_page": PER_PAGE, "page": page}
            response = await send(http, KIND, "GET", "/user/installations", params=params)
            found = _object(response).get("installations")
            if not isinstance(found, list):
                raise UpstreamError(KIND, Failure.UNAVAILABLE, "unexpected body shape")
            if any(isinstance(i, Mapping) and str(i.get("id")) == installation_id for i in found):
                return True
            if not _has_next(response):
                return False
    return False
