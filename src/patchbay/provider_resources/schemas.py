"""Response shapes of the provider-resource routes (PostHog's field names, for the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SlackChannel(BaseModel):
    id: str = Field(description="Slack channel ID (e.g. C0123ABC).")
    name: str = Field(description="Channel name without '#'; PRIVATE_CHANNEL_WITHOUT_ACCESS when masked.")
    is_private: bool
    is_member: bool = Field(
        description="True if the Slack app is a member of the channel and can post to it."
    )
    is_ext_shared: bool
    is_private_without_access: bool


class SlackChannelsResponse(BaseModel):
    channels: list[SlackChannel]
    lastRefreshedAt: str | None = Field(
        None, description="ISO 8601 time of the last full refresh (full lists only)."
    )
    has_more: bool | None = Field(None, description="More channels match beyond this page (full lists only).")


class SlackUser(BaseModel):
    id: str
    name: str = Field(description="Slack handle without '@'.")
    display_name: str = Field(description="Display name, falling back to the real name or handle.")


class SlackUsersResponse(BaseModel):
    users: list[SlackUser]
    lastRefreshedAt: str | None = None
    has_more: bool | None = None


class IdName(BaseModel):
    id: str
    name: str


class ClickUpWorkspacesResponse(BaseModel):
    workspaces: list[IdName]


class ClickUpSpacesResponse(BaseModel):
    spaces: list[IdName]


class ClickUpList(BaseModel):
    id: str
    name: str
    folder_id: str | None = Field(
        None, description="Set for lists inside a folder; absent for folderless lists."
    )
    folder_name: str | None = None


class ClickUpListsResponse(BaseModel):
    lists: list[ClickUpList]


class LinearTeamsResponse(BaseModel):
    teams: list[IdName]


class TwilioPhoneNumber(BaseModel):
    sid: str
    phone_number: str
    friendly_name: str


class TwilioPhoneNumbersResponse(BaseModel):
    phone_numbers: list[TwilioPhoneNumber]
    lastRefreshedAt: str
