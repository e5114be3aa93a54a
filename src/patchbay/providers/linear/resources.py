"""Linear's resource route: the organization's teams."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.linear.client import LinearClient, linear_http
from patchbay.providers.schemas import IdName


class LinearTeamsResponse(BaseModel):
    """Teams of the connected Linear workspace."""

    teams: list[IdName]


async def linear_teams(session: ResourceSession) -> dict[str, Any]:
    """Teams of the connected Linear workspace. Needs `integration:read`."""
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        async with linear_http(session.settings, token, timeout=session.http_timeout) as http:
            return await LinearClient(http).teams()

    return {"teams": await session.call(fetch)}


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="linear_teams",
            name="integrations_linear_teams_retrieve",
            response_model=LinearTeamsResponse,
            handler=linear_teams,
            wrong_kind="linear_teams endpoint is only supported for Linear integrations",
        ),
    ),
    # Linear's OAuth tokens behave like ClickUp's: a refused token marks the integration.
    marks_integration_on_auth=True,
    priority=30,
)
