"""`GET …/integrations/{id}/github_repos/`: the repositories the installation reaches, as PostHog's
newest API answers (`{"repositories": [{"id", "name", "full_name"}], "has_more"}`), searchable by
`full_name` and paged with `limit`/`offset`. The whole list is read once and cached (an hour)."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel

from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.github import app

MAX_LIMIT = 500


class GitHubRepository(BaseModel):
    """A repository the GitHub App installation can reach."""

    id: int
    name: str
    full_name: str


class GitHubReposResponse(BaseModel):
    """One page of the installation's repositories; `has_more` when later pages hold more."""

    repositories: list[GitHubRepository]
    has_more: bool


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

    key = session.cache_key("github", "repositories")
    cached = await session.cached_list(
        key, "repositories", fetch, action="list repositories", force_refresh=force_refresh
    )
    every: list[dict[str, Any]] = list(cached.get("repositories", []))
    wanted = search.strip().casefold()
    if wanted:
        every = [repo for repo in every if wanted in str(repo.get("full_name", "")).casefold()]
    return {"repositories": every[offset : offset + limit], "has_more": offset + limit < len(every)}


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="github_repos",
            name="integrations_github_repos_retrieve",
            response_model=GitHubReposResponse,
            handler=github_repos,
            wrong_kind="github_repos endpoint is only supported for GitHub integrations",
        ),
    ),
    marks_integration_on_auth=True,
    refresh_failure_is_auth=False,
)
