"""Response shapes of Slack's resource routes (PostHog's field names, for the OpenAPI schema)."""

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
