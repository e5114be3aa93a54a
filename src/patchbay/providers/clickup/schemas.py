"""Response shapes of ClickUp's resource routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from patchbay.providers.schemas import IdName


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
