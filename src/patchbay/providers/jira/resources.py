"""`GET …/integrations/{id}/jira_projects/`: the projects of the connected Jira site, as PostHog
answers them (`{"projects": [{"id", "key", "name"}]}`), read from Atlassian's
`/ex/jira/{cloud_id}/rest/api/3/project/search` page by page and cached like every resource list."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Query
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers import registry
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession

PROJECT_SEARCH = "https://api.atlassian.com/ex/jira/{cloud_id}/rest/api/3/project/search"
PAGE_SIZE = 50
MAX_PAGES = 20
NO_CLOUD_ID = "Jira integration missing cloud_id - the integration may not be properly configured"


class JiraProject(BaseModel):
    """A Jira project of the connected site."""

    id: str
    key: str
    name: str


class JiraProjectsResponse(BaseModel):
    """The connected Jira site's projects."""

    projects: list[JiraProject]


def search_url(settings: Settings, cloud_id: str) -> str:
    """Atlassian's API host, moved with PATCHBAY_JIRA_API_URL like the rest of the kind's endpoints."""
    url = PROJECT_SEARCH.format(cloud_id=cloud_id)
    provider = registry.oauth_provider("jira")
    return provider.resolve(settings, url) if provider is not None else url


async def _page(http: httpx.AsyncClient, url: str, start: int) -> dict[str, Any]:
    async def once() -> dict[str, Any]:
        response = await send(http, "jira", "GET", url, params={"startAt": start, "maxResults": PAGE_SIZE})
        error = classify_status("jira", response)
        if error is not None:
            raise error
        body = json_object("jira", response, "values")
        if not isinstance(body["values"], list):
            raise UpstreamError("jira", Failure.UNAVAILABLE, "unexpected body shape")
        return body

    return await read_with_retries(once)


async def list_projects(settings: Settings, token: str, cloud_id: str) -> list[dict[str, Any]]:
    projects: list[dict[str, Any]] = []
    url = search_url(settings, cloud_id)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with outbound_client(timeout=settings.http_timeout, headers=headers) as http:
        start = 0
        for _ in range(MAX_PAGES):
            body = await _page(http, url, start)
            for item in body["values"]:
                if isinstance(item, dict) and item.get("id") is not None and item.get("key"):
                    projects.append(
                        {"id": str(item["id"]), "key": str(item["key"]), "name": str(item.get("name", ""))}
                    )
            start += len(body["values"])
            if body.get("isLast", True) or not body["values"]:
                break
    return projects


async def jira_projects(
    session: ResourceSession,
    force_refresh: bool = Query(False, description="Read the list again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Projects of the connected Jira site. Needs `integration:read`."""
    cloud_id = session.config.get("cloud_id")
    if not cloud_id:
        raise ValidationError(NO_CLOUD_ID)
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await list_projects(session.settings, token, str(cloud_id))

    key = session.cache_key("jira", "projects")
    return await session.cached_list(
        key, "projects", fetch, action="list projects", force_refresh=force_refresh
    )


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="jira_projects",
            name="integrations_jira_projects_retrieve",
            response_model=JiraProjectsResponse,
            handler=jira_projects,
            wrong_kind="jira_projects endpoint is only supported for Jira integrations",
        ),
    ),
    marks_integration_on_auth=True,
    refresh_failure_is_auth=True,
)
