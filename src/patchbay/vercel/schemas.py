"""Bodies Vercel and the linking page send, and what Patchbay answers."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VercelCredentials(BaseModel):
    """The token Vercel hands over with an installation."""

    access_token: str = Field(
        min_length=1, description="Access token for Vercel's marketplace and integration APIs."
    )
    token_type: str = Field(min_length=1, description="Token type, normally `Bearer`.")


class VercelContact(BaseModel):
    """Who to contact about a Vercel account."""

    email: str = Field(
        min_length=3, description="Contact email of the account; becomes the organization's owner."
    )
    name: str | None = Field(None, description="Contact name.")


class VercelAccount(BaseModel):
    """The Vercel account an installation belongs to."""

    name: str | None = Field(None, description="Account name; names the new organization.")
    url: str = Field(min_length=1, description="URL of the account on Vercel.")
    contact: VercelContact


class InstallationUpsert(BaseModel):
    """Vercel's Upsert Installation body."""

    model_config = ConfigDict(extra="ignore")

    scopes: list[str] = Field(min_length=1, description="Scopes granted; at least one.")
    acceptedPolicies: dict[str, Any] = Field(
        description='Policies accepted, e.g. {"toc": "2024-02-28T10:00:00Z"}.'
    )
    credentials: VercelCredentials
    account: VercelAccount


class ConnectComplete(BaseModel):
    """Finishes "link existing account": the session from /connect/vercel/callback, the organization to
    link (the caller must be its admin or owner) and the project that receives the Vercel resource."""

    model_config = ConfigDict(extra="ignore")

    session: str = Field(min_length=1, max_length=200, description="The `session` of the linking page URL.")
    organization_id: uuid.UUID = Field(description="Organization to link.")
    team_id: int | None = Field(None, description="Project id (PostHog calls it team_id).")
    project_id: int | None = Field(None, description="Alias of team_id.")


class ConnectCompleted(BaseModel):
    """The result of linking an existing Vercel account to an organization."""

    status: str = Field(description="`linked`.")
    organization_id: str
    organization_name: str
    next_url: str = Field(description="Where to send the person back to on Vercel (empty when unknown).")
    secrets_synced: bool = Field(
        description="Whether the project's token reached Vercel's environment variables."
    )
