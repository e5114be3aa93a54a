"""Response shapes of the provider-resource routes (PostHog's field names, for the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SlackChannel(BaseModel):
    """A Slack channel of the connected workspace."""

    id: str = Field(description="Slack channel ID (e.g. C0123ABC).")
    name: str = Field(description="Channel name without '#'; PRIVATE_CHANNEL_WITHOUT_ACCESS when masked.")
    is_private: bool
    is_member: bool = Field(
        description="True if the Slack app is a member of the channel and can post to it."
    )
    is_ext_shared: bool
    is_private_without_access: bool


class SlackChannelsResponse(BaseModel):
    """One page of Slack channels."""

    channels: list[SlackChannel]
    lastRefreshedAt: str | None = Field(
        None, description="ISO 8601 time of the last full refresh (full lists only)."
    )
    has_more: bool | None = Field(None, description="More channels match beyond this page (full lists only).")


class SlackUser(BaseModel):
    """A member of the connected Slack workspace."""

    id: str
    name: str = Field(description="Slack handle without '@'.")
    display_name: str = Field(description="Display name, falling back to the real name or handle.")


class SlackUsersResponse(BaseModel):
    """One page of Slack workspace members."""

    users: list[SlackUser]
    lastRefreshedAt: str | None = None
    has_more: bool | None = None


class IdName(BaseModel):
    """A provider object named by its id."""

    id: str
    name: str


class ClickUpWorkspacesResponse(BaseModel):
    """ClickUp workspaces (ClickUp's API calls them teams)."""

    workspaces: list[IdName]


class ClickUpSpacesResponse(BaseModel):
    """Spaces of a ClickUp workspace."""

    spaces: list[IdName]


class ClickUpList(BaseModel):
    """A ClickUp list, with its folder when it has one."""

    id: str
    name: str
    folder_id: str | None = Field(
        None, description="Set for lists inside a folder; absent for folderless lists."
    )
    folder_name: str | None = None


class ClickUpListsResponse(BaseModel):
    """Lists of a ClickUp space: folder lists first, then folderless ones."""

    lists: list[ClickUpList]


class LinearTeamsResponse(BaseModel):
    """Teams of the connected Linear workspace."""

    teams: list[IdName]


class TwilioPhoneNumber(BaseModel):
    """A phone number of the connected Twilio account."""

    sid: str
    phone_number: str
    friendly_name: str


class TwilioPhoneNumbersResponse(BaseModel):
    """Phone numbers of the connected Twilio account."""

    phone_numbers: list[TwilioPhoneNumber]
    lastRefreshedAt: str
