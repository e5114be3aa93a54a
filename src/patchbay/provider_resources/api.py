"""Routes listing what lives on the provider side of an integration (Slack channels and members,
ClickUp workspaces/spaces/lists, Linear teams, Twilio numbers)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from patchbay.kit.responses import JSONResponse
from patchbay.provider_resources import service
from patchbay.provider_resources.schemas import (
    ClickUpListsResponse,
    ClickUpSpacesResponse,
    ClickUpWorkspacesResponse,
    LinearTeamsResponse,
    SlackChannelsResponse,
    SlackUsersResponse,
    TwilioPhoneNumbersResponse,
)
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

read = project_context("integration:read")


@router.get(
    "/integrations/{id:row_id}/channels",
    name="integrations_channels_retrieve",
    response_model=SlackChannelsResponse,
)
async def channels(
    id: int,
    ctx: ProjectContext = Depends(read),
    search: str = Query(
        "", description="Case-insensitive, typo-tolerant channel name search; also matches IDs."
    ),
    limit: int = Query(50, ge=1, le=200, description="Channels per page (1-200)."),
    offset: int = Query(0, ge=0, description="Channels to skip."),
    channel_id: str = Query(
        "", description="Look up one channel by ID; search/limit/offset are then ignored."
    ),
    force_refresh: bool = Query(
        False, description="Bypass the one-hour channel cache: browser sessions only; API keys read the cache."
    ),
) -> Response:
    """Slack channels the connected workspace has, filtered, searchable and paginated.

    Needs `integration:read`. Answers are cached for an hour per integration; `force_refresh` asks
    Slack again. A revoked Slack token answers 400 `slack_integration_inactive`.
    """
    return JSONResponse(
        await service.slack_channels(
            ctx,
            id,
            search=search,
            limit=limit,
            offset=offset,
            channel_id=channel_id,
            force_refresh=force_refresh,
        )
    )


@router.get(
    "/integrations/{id:row_id}/users", name="integrations_users_retrieve", response_model=SlackUsersResponse
)
async def users(
    id: int,
    ctx: ProjectContext = Depends(read),
    search: str = Query(
        "", description="Case-insensitive, typo-tolerant member name search; also matches IDs."
    ),
    limit: int = Query(50, ge=1, le=200, description="Members per page (1-200)."),
    offset: int = Query(0, ge=0, description="Members to skip."),
    user_id: str = Query("", description="Look up one member by ID; search/limit/offset are then ignored."),
    force_refresh: bool = Query(
        False,
        description="Bypass the one-hour member cache (at most every 30 s): browser sessions only; API keys read the cache.",
    ),
) -> Response:
    """Members of the connected Slack workspace, searchable and paginated. Needs `integration:read`."""
    return JSONResponse(
        await service.slack_users(
            ctx, id, search=search, limit=limit, offset=offset, user_id=user_id, force_refresh=force_refresh
        )
    )


@router.get(
    "/integrations/{id:row_id}/clickup_workspaces",
    name="integrations_clickup_workspaces_retrieve",
    response_model=ClickUpWorkspacesResponse,
)
async def clickup_workspaces(id: int, ctx: ProjectContext = Depends(read)) -> Response:
    """ClickUp workspaces (teams) the connected account can see. Needs `integration:read`."""
    return JSONResponse(await service.clickup_workspaces(ctx, id))


@router.get(
    "/integrations/{id:row_id}/clickup_spaces",
    name="integrations_clickup_spaces_retrieve",
    response_model=ClickUpSpacesResponse,
)
async def clickup_spaces(
    id: int,
    ctx: ProjectContext = Depends(read),
    workspaceId: str | None = Query(None, description="ClickUp workspace (team) ID."),  # noqa: N803
) -> Response:
    """Spaces of one ClickUp workspace (`workspaceId`). Needs `integration:read`."""
    return JSONResponse(await service.clickup_spaces(ctx, id, workspaceId))


@router.get(
    "/integrations/{id:row_id}/clickup_lists",
    name="integrations_clickup_lists_retrieve",
    response_model=ClickUpListsResponse,
)
async def clickup_lists(
    id: int,
    ctx: ProjectContext = Depends(read),
    spaceId: str | None = Query(None, description="ClickUp space ID."),  # noqa: N803
) -> Response:
    """Lists of one ClickUp space (`spaceId`): those in folders first, then the folderless ones.
    Needs `integration:read`.
    """
    return JSONResponse(await service.clickup_lists(ctx, id, spaceId))


@router.get(
    "/integrations/{id:row_id}/linear_teams",
    name="integrations_linear_teams_retrieve",
    response_model=LinearTeamsResponse,
)
async def linear_teams(id: int, ctx: ProjectContext = Depends(read)) -> Response:
    """Teams of the connected Linear workspace. Needs `integration:read`."""
    return JSONResponse(await service.linear_teams(ctx, id))


@router.get(
    "/integrations/{id:row_id}/twilio_phone_numbers",
    name="integrations_twilio_phone_numbers_retrieve",
    response_model=TwilioPhoneNumbersResponse,
)
async def twilio_phone_numbers(
    id: int,
    ctx: ProjectContext = Depends(read),
    force_refresh: bool = Query(False, description="Bypass the one-hour cache."),
) -> Response:
    """Phone numbers of the connected Twilio account (cached for an hour). Needs `integration:read`."""
    return JSONResponse(await service.twilio_phone_numbers(ctx, id, force_refresh=force_refresh))
