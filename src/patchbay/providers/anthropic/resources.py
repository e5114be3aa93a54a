"""Anthropic's Managed Agents lists, as PostHog answers them: `GET …/anthropic_managed_agents/`,
`…/anthropic_managed_agent_environments/` and `…/anthropic_managed_agent_vaults/`.

Each reads one page of Anthropic's `/v1/agents`, `/v1/environments` or `/v1/vaults` (the managed-agents
beta header on the call) with the stored API key: `limit` (at most 100) and the `after` cursor pass
through, and the answer is `{"agents" | "environments" | "vaults": [...], "next_cursor", "has_more"}`.
Only the default first page is cached (five minutes, PostHog's dropdown window): a cursor names
Anthropic's state at the time and is never pinned. A refused key asks to reconnect in PostHog's words
and marks the integration; outages are the shared 502/503."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Query
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.errors import APIError, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers.anthropic.client import anthropic_http
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession

BETA_HEADER = "managed-agents-2026-04-01"  # the beta PostHog names
PAGE_LIMIT = 100
CACHE_SECONDS = 5 * 60
KEY_INVALID = "Anthropic API key is no longer valid. Please reconnect the integration."
KEY_NOT_ALLOWED = (
    "Anthropic API key is missing required permissions. Please reconnect with a key that has access "
    "to the Managed Agents beta."
)
WRONG_KIND = "Integration {id} is not an Anthropic integration (kind={kind})"


class ManagedAgent(BaseModel):
    """A managed agent; `name` falls back to the id."""

    id: str
    name: str
    version: int | str | None = None


class ManagedEnvironment(BaseModel):
    """An agent environment; `name` falls back to the id."""

    id: str
    name: str


class ManagedVault(BaseModel):
    """An agent vault; `display_name` falls back to the id."""

    id: str
    display_name: str


class ManagedAgentsResponse(BaseModel):
    """One page of the workspace's managed agents."""

    agents: list[ManagedAgent]
    next_cursor: str | None = None
    has_more: bool


class ManagedEnvironmentsResponse(BaseModel):
    """One page of the workspace's agent environments."""

    environments: list[ManagedEnvironment]
    next_cursor: str | None = None
    has_more: bool


class ManagedVaultsResponse(BaseModel):
    """One page of the workspace's agent vaults."""

    vaults: list[ManagedVault]
    next_cursor: str | None = None
    has_more: bool


def _agent(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item.get("name") or item["id"], "version": item.get("version")}


def _environment(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item.get("name") or item["id"]}


def _vault(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "display_name": item.get("display_name") or item["id"]}


async def list_page(
    settings: Settings, api_key: str, resource: str, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `/v1/{resource}`: its items (those with a string id) and the next cursor."""
    params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}

    async def once() -> dict[str, Any]:
        async with anthropic_http(settings, api_key) as http:
            response = await send(
                http,
                "anthropic",
                "GET",
                f"/v1/{resource}",
                params=params,
                headers={"anthropic-beta": BETA_HEADER},
            )
        error = classify_status("anthropic", response)
        if error is not None:
            raise error
        return json_object("anthropic", response, "data")

    body = await read_with_retries(once)
    if not isinstance(body["data"], list):
        raise UpstreamError("anthropic", Failure.UNAVAILABLE, "unexpected body shape")
    items = [item for item in body["data"] if isinstance(item, dict) and isinstance(item.get("id"), str)]
    cursor = body.get("next_cursor")
    return items, cursor if isinstance(cursor, str) and cursor else None


def _lister(resource: str, shape: Callable[[dict[str, Any]], dict[str, Any]], what: str) -> Any:
    async def handler(
        session: ResourceSession,
        limit: int = Query(
            PAGE_LIMIT, ge=1, description=f"{what.capitalize()} per page (at most {PAGE_LIMIT})."
        ),
        after: str | None = Query(None, description="The `next_cursor` of the previous page."),
        force_refresh: bool = Query(
            False, description="Read the first page again (signed-in browsers only)."
        ),
    ) -> dict[str, Any]:
        secrets = await session.secrets()
        api_key = secrets.get("api_key")
        if not isinstance(api_key, str) or not api_key:
            raise ValidationError(KEY_INVALID)
        size = min(limit, PAGE_LIMIT)

        async def fill() -> dict[str, Any]:
            items, cursor = await session.call(
                lambda: list_page(session.settings, api_key, resource, limit=size, after=after),
                action=f"list {what}",
            )
            return {
                resource: [shape(item) for item in items],
                "next_cursor": cursor,
                "has_more": bool(cursor),
            }

        if after or size != PAGE_LIMIT:
            return await fill()
        key = session.cache_key("anthropic", resource)
        return await session.cached(
            key, fill, force=force_refresh and session.browser_session, ttl=CACHE_SECONDS
        )

    return handler


managed_agents = _lister("agents", _agent, "agents")
managed_agents.__doc__ = "Managed agents of the Anthropic workspace. Needs `integration:read`."
managed_agents.__name__ = "anthropic_managed_agents"
managed_environments = _lister("environments", _environment, "environments")
managed_environments.__doc__ = "Agent environments of the Anthropic workspace. Needs `integration:read`."
managed_environments.__name__ = "anthropic_managed_agent_environments"
managed_vaults = _lister("vaults", _vault, "vaults")
managed_vaults.__doc__ = "Agent vaults of the Anthropic workspace. Needs `integration:read`."
managed_vaults.__name__ = "anthropic_managed_agent_vaults"


def api_error(error: UpstreamError, action: str) -> APIError | None:
    """PostHog's words for a key Anthropic refuses; the shared envelope for everything else."""
    if error.failure is Failure.AUTH:
        return ValidationError(KEY_INVALID)
    if error.failure is Failure.PERMISSION:
        return ValidationError(KEY_NOT_ALLOWED)
    return None


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="anthropic_managed_agents",
            name="integrations_anthropic_managed_agents_retrieve",
            response_model=ManagedAgentsResponse,
            handler=managed_agents,
            wrong_kind=WRONG_KIND,
        ),
        ResourceRoute(
            path="anthropic_managed_agent_environments",
            name="integrations_anthropic_managed_agent_envs_retrieve",
            response_model=ManagedEnvironmentsResponse,
            handler=managed_environments,
            wrong_kind=WRONG_KIND,
        ),
        ResourceRoute(
            path="anthropic_managed_agent_vaults",
            name="integrations_anthropic_managed_agent_vaults_retrieve",
            response_model=ManagedVaultsResponse,
            handler=managed_vaults,
            wrong_kind=WRONG_KIND,
        ),
    ),
    marks_integration_on_auth=True,
    api_error=api_error,
)
