"""GitHub's resource routes, as PostHog's newest API answers them:

- `GET …/github_repos/`: the repositories the installation reaches (`{"repositories": [{"id", "name",
  "full_name"}], "has_more", "total"}`), searchable by `full_name`, paged with `limit`/`offset`. The whole list
  is read once and cached (an hour).
- `POST …/github_repos/refresh/`: drops that list and reads it again (a write: `integration:write`;
  within 30 seconds of the last read the list just read is answered). `installation_status` says
  `unavailable` when GitHub no longer lets the installation in; `repositories` is then the last list.
- `GET …/github_branches/?repo=owner/name`: branch names, the default branch first, searchable and
  paged; cached ten minutes per repository.
- `GET …/github_teams/`: the teams of the installation's organization (`{"id", "slug", "name"}`),
  searchable by slug or name, paged; a personal account has none."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import Query
from pydantic import BaseModel

from patchbay.kit.errors import APIError, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.github import app

MAX_LIMIT = 500
MAX_BRANCH_LIMIT = 1000
LIST_SECONDS = 60 * 60  # the shared list cache's lifetime (provider_resources)
REFRESH_COOLDOWN_SECONDS = 30  # PostHog's GITHUB_REPOSITORY_REFRESH_COOLDOWN_SECONDS
BRANCH_CACHE_SECONDS = 10 * 60  # PostHog's branch cache staleness
# One path segment of GitHub's: a repository, owner or organization name (PostHog's pattern).
NAME = re.compile(r"[A-Za-z0-9_.\-]+")
BAD_REPO = "repo must be in owner/repo format"


class GitHubRepository(BaseModel):
    """A repository the GitHub App installation can reach."""

    id: int
    name: str
    full_name: str


class GitHubReposResponse(BaseModel):
    """One page of the installation's repositories; `has_more` when later pages hold more, `total`
    the repositories matching the search on every page."""

    repositories: list[GitHubRepository]
    has_more: bool
    total: int


class GitHubReposRefreshResponse(BaseModel):
    """The repository list read again; `installation_status` `unavailable` when GitHub no longer lets
    the installation in (then `repositories` is the last list read)."""

    repositories: list[GitHubRepository]
    installation_status: str


class GitHubBranchesResponse(BaseModel):
    """One page of a repository's branch names, the default branch first."""

    branches: list[str]
    default_branch: str | None = None
    has_more: bool


class GitHubTeam(BaseModel):
    """A team of the installation's GitHub organization."""

    id: int
    slug: str
    name: str


class GitHubTeamsResponse(BaseModel):
    """One page of the organization's teams."""

    teams: list[GitHubTeam]
    has_more: bool


def _page(items: list[Any], limit: int, offset: int) -> tuple[list[Any], bool]:
    return items[offset : offset + limit], offset + limit < len(items)


def _repositories_key(session: ResourceSession) -> str:
    return session.cache_key("github", "repositories")


async def github_repos(
    session: ResourceSession,
    search: str = Query("", description="Keep repositories whose full name contains this (any case)."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="Repositories per page."),
    offset: int = Query(0, ge=0, description="Repositories to skip."),
    force_refresh: bool = Query(False, description="Read the list again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Repositories the GitHub App installation can reach. Needs `integration:read`."""
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await app.list_repositories(session.settings, token)

    cached = await session.cached_list(
        _repositories_key(session),
        "repositories",
        fetch,
        action="list repositories",
        force_refresh=force_refresh,
    )
    every: list[dict[str, Any]] = list(cached.get("repositories", []))
    wanted = search.strip().casefold()
    if wanted:
        every = [repo for repo in every if wanted in str(repo.get("full_name", "")).casefold()]
    page, more = _page(every, limit, offset)
    return {"repositories": page, "has_more": more, "total": len(every)}


async def refresh_github_repos(session: ResourceSession) -> dict[str, Any]:
    """Read the installation's repositories again and cache them. Needs `integration:write`."""
    key = _repositories_key(session)
    current = await session.cache_get(key)
    last: list[dict[str, Any]] = list(current.get("repositories", [])) if isinstance(current, dict) else []
    if (
        isinstance(current, dict)
        and await session.remaining_ttl(key) > LIST_SECONDS - REFRESH_COOLDOWN_SECONDS
    ):
        return {"repositories": last, "installation_status": "connected"}
    try:
        token = await session.access_token()
    except APIError as exc:
        if exc.status_code != 400:  # an outage minting the token: a failure, not a state
            raise
        # GitHub refused to mint a token: the installation is gone or suspended (the row is marked).
        return {"repositories": last, "installation_status": "unavailable"}
    try:
        repositories = await app.list_repositories(session.settings, token)
    except UpstreamError as error:
        if error.failure is not Failure.AUTH:
            await session.fail(error, action="list repositories")
        with contextlib.suppress(APIError):
            await session.fail(error, action="list repositories")  # recorded: reconnect needed
        return {"repositories": last, "installation_status": "unavailable"}
    await session.cache_set(key, {"repositories": repositories})
    return {"repositories": repositories, "installation_status": "connected"}


def checked_repo(repo: str) -> str:
    parts = repo.split("/")
    if len(parts) != 2 or not all(NAME.fullmatch(part) and part not in (".", "..") for part in parts):
        raise ValidationError(BAD_REPO, attr="repo")
    return repo


async def github_branches(
    session: ResourceSession,
    # Checked in the handler, after the integration is found: a foreign id is 404 before any 400.
    repo: str = Query("", description="The repository, as `owner/name` (required)."),
    search: str = Query("", description="Keep branches whose name contains this (any case)."),
    limit: int = Query(100, ge=1, le=MAX_BRANCH_LIMIT, description="Branches per page."),
    offset: int = Query(0, ge=0, description="Branches to skip."),
    force_refresh: bool = Query(False, description="Read the branches again (signed-in browsers only)."),
) -> dict[str, Any]:
    """A repository's branches, the default branch first. Needs `integration:read`."""
    checked_repo(repo)
    token = await session.access_token()
    settings = session.settings

    async def fill() -> dict[str, Any]:
        names = await session.call(lambda: app.list_branches(settings, token, repo), action="list branches")
        try:
            default = await app.default_branch(settings, token, repo)
        except UpstreamError:
            default = None  # as PostHog: the branches stand without it
        if default in names:
            names = [default, *(name for name in names if name != default)]
        return {"branches": names, "default_branch": default if default in names else None}

    key = session.cache_key("github", "branches", repo.casefold())
    force = force_refresh and session.browser_session
    cached = await session.cached(key, fill, force=force, ttl=BRANCH_CACHE_SECONDS)
    names: list[str] = list(cached.get("branches", []))
    wanted = search.strip().casefold()
    if wanted:
        names = [name for name in names if wanted in name.casefold()]
    page, more = _page(names, limit, offset)
    return {"branches": page, "default_branch": cached.get("default_branch"), "has_more": more}


def _organization(config: dict[str, Any]) -> str | None:
    account = config.get("account")
    if not isinstance(account, dict) or account.get("type") != "Organization":
        return None  # a personal account has no teams
    login = account.get("name")
    return login if isinstance(login, str) and NAME.fullmatch(login) else None


async def github_teams(
    session: ResourceSession,
    search: str = Query("", description="Keep teams whose slug or name contains this (any case)."),
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="Teams per page."),
    offset: int = Query(0, ge=0, description="Teams to skip."),
    force_refresh: bool = Query(False, description="Read the teams again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Teams of the installation's GitHub organization. Needs `integration:read`."""
    organization = _organization(session.config)
    if organization is None:
        return {"teams": [], "has_more": False}
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await app.list_teams(session.settings, token, organization)

    key = session.cache_key("github", "teams")
    cached = await session.cached_list(key, "teams", fetch, action="list teams", force_refresh=force_refresh)
    teams: list[dict[str, Any]] = list(cached.get("teams", []))
    wanted = search.strip().casefold()
    if wanted:
        teams = [t for t in teams if wanted in t["slug"].casefold() or wanted in t["name"].casefold()]
    page, more = _page(teams, limit, offset)
    return {"teams": page, "has_more": more}


def _only(action: str) -> str:
    return f"{action} endpoint is only supported for GitHub integrations"


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="github_repos",
            name="integrations_github_repos_retrieve",
            response_model=GitHubReposResponse,
            handler=github_repos,
            wrong_kind=_only("github_repos"),
        ),
        ResourceRoute(
            path="github_repos/refresh",
            name="integrations_github_repos_refresh_create",
            response_model=GitHubReposRefreshResponse,
            handler=refresh_github_repos,
            wrong_kind=_only("refresh_github_repos"),
            method="POST",
            scope="integration:write",
        ),
        ResourceRoute(
            path="github_branches",
            name="integrations_github_branches_retrieve",
            response_model=GitHubBranchesResponse,
            handler=github_branches,
            wrong_kind=_only("github_branches"),
        ),
        ResourceRoute(
            path="github_teams",
            name="integrations_github_teams_retrieve",
            response_model=GitHubTeamsResponse,
            handler=github_teams,
            wrong_kind=_only("github_teams"),
        ),
    ),
    marks_integration_on_auth=True,
    refresh_failure_is_auth=False,
)
