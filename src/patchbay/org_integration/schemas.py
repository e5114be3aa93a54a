"""Response and request models of /api/organizations/{organization_id}/integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from patchbay.integration.schemas import UserBasic


class OrganizationIntegrationOut(BaseModel):
    """An integration that belongs to an organization rather than a project (a Vercel installation)."""

    id: str = Field(description="UUID of the organization integration.")
    kind: str = Field(description="Integration kind; `vercel`.")
    integration_id: str | None = Field(description="External id, e.g. the Vercel installation id.")
    config: Any = Field(description="Non-secret configuration; credentials are never returned.")
    created_at: datetime
    updated_at: datetime
    created_by: UserBasic | None


class OrganizationIntegrationPage(BaseModel):
    """One page of organization integrations; `next`/`previous` are absolute URLs."""

    count: int
    next: str | None
    previous: str | None
    results: list[OrganizationIntegrationOut]


class EnvironmentMappingIn(BaseModel):
    """Patchbay project ids per Vercel environment; preview and development default to production."""

    production: int = Field(description="Project whose token Vercel production deployments get.")
    preview: int | None = Field(None, description="Project for preview deployments (default: production).")
    development: int | None = Field(None, description="Project for development (default: production).")
