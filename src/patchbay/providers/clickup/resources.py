"""ClickUp's resource routes: the token's workspaces, a workspace's spaces, a space's lists."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Query

from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.clickup.client import ClickUpClient, clickup_http
from patchbay.providers.clickup.schemas import (
    ClickUpListsResponse,
    ClickUpSpacesResponse,
    ClickUpWorkspacesResponse,
)

T = TypeVar("T")

# ClickUp ids are short alphanumeric strings; anything else is never sent upstream.
PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _provider_id_param(value: str | None, attr: str) -> str:
    if value is None or value == "":
        raise ValidationError("This field is required.", code="required", attr=attr)
    if not PROVIDER_ID.match(value):
        raise ValidationError("Enter a valid ID.", attr=attr)
    return value


async def _read(
    session: ResourceSession, read: Callable[[ClickUpClient], Awaitable[T]], *, missing: tuple[str, str]
) -> T:
    token = await session.access_token()
    try:
        async with clickup_http(session.settings, token, timeout=session.http_timeout) as http:
            return await read(ClickUpClient(http))
    except UpstreamError as exc:
        if exc.failure is Failure.NOT_FOUND and missing[0]:
            raise ValidationError(missing[1], attr=missing[0]) from None
        await session.fail(exc)


async def clickup_workspaces(session: ResourceSession) -> dict[str, Any]:
    """ClickUp workspaces (teams) the connected account can see. Needs `integration:read`."""
    return {"workspaces": await _read(session, lambda c: c.workspaces(), missing=("", ""))}


async def clickup_spaces(
    session: ResourceSession,
    workspaceId: str | None = Query(None, description="ClickUp workspace (team) ID."),  # noqa: N803
) -> dict[str, Any]:
    """Spaces of one ClickUp workspace (`workspaceId`). Needs `integration:read`."""
    workspace = _provider_id_param(workspaceId, "workspaceId")
    spaces = await _read(
        session,
        lambda c: c.spaces(workspace),
        missing=("workspaceId", "ClickUp has no workspace with this ID for this integration."),
    )
    return {"spaces": spaces}


async def clickup_lists(
    session: ResourceSession,
    spaceId: str | None = Query(None, description="ClickUp space ID."),  # noqa: N803
) -> dict[str, Any]:
    """Lists of one ClickUp space (`spaceId`): those in folders first, then the folderless ones.
    Needs `integration:read`.
    """
    space = _provider_id_param(spaceId, "spaceId")
    lists = await _read(
        session,
        lambda c: c.lists(space),
        missing=("spaceId", "ClickUp has no space with this ID for this integration."),
    )
    return {"lists": lists}


def _route(path: str, response_model: type[Any], handler: Any) -> ResourceRoute:
    return ResourceRoute(
        path=path,
        name=f"integrations_{path}_retrieve",
        response_model=response_model,
        handler=handler,
        wrong_kind=f"{path} endpoint is only supported for ClickUp integrations",
        wrong_kind_attr="kind",
    )


RESOURCES = ResourceLister(
    routes=(
        _route("clickup_workspaces", ClickUpWorkspacesResponse, clickup_workspaces),
        _route("clickup_spaces", ClickUpSpacesResponse, clickup_spaces),
        _route("clickup_lists", ClickUpListsResponse, clickup_lists),
    ),
    # PostHog marks a ClickUp row whose token the provider refuses.
    marks_integration_on_auth=True,
    priority=20,
)
