"""Response shapes of ClickUp's resource routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from patchbay.providers.schemas import IdName


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
