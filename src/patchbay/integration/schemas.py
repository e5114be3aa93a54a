"""Request and response models of project integrations (PostHog's IntegrationConfig)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from patchbay.integration.kind_names import known_kinds

IntegrationKind = Literal[known_kinds()]  # type: ignore[valid-type]


class UserBasic(BaseModel):
    """The user who created an object (PostHog's nine-field user)."""

    id: int
    uuid: UUID
    distinct_id: str | None
    first_name: str
    last_name: str
    email: str
    is_email_verified: bool | None
    hedgehog_config: dict[str, Any] | None = None
    role_at_organization: str | None = None


class IntegrationHealth(BaseModel):
    """Whether the connection works, as Patchbay last learnt it (docs/health.md). `detail` says
    why in words safe to show; `expires_at` is when the stored access token stops working (null
    when it does not expire), `last_refreshed_at` when it was issued (connect or refresh),
    `last_checked_at` when `POST …/check/` last ran the kind's verification call."""

    status: Literal["healthy", "unknown", "refresh_failed", "reauthorization_required"]
    detail: str | None
    expires_at: datetime | None
    last_refreshed_at: datetime | None
    last_checked_at: datetime | None


class IntegrationOut(BaseModel):
    """A project integration. `config` holds the non-secret settings; secrets never leave the server."""

    id: int
    kind: str
    config: Any
    created_at: datetime
    created_by: UserBasic | None
    errors: str
    display_name: str
    files_write_requestable: bool = Field(
        description="Slack: whether the connection requests the files:write scope; false for other kinds."
    )
    installation_shared: bool | None = Field(description="GitHub installations only; null otherwise.")
    installation_status: Literal["connected", "unavailable"] | None = Field(
        description="GitHub installations only; null otherwise."
    )
    health: IntegrationHealth = Field(description="Patchbay's own: the connection's health.")


class IntegrationPage(BaseModel):
    """One page of integrations; `next`/`previous` are absolute URLs (null at the ends)."""

    count: int
    next: str | None
    previous: str | None
    results: list[IntegrationOut]


class IntegrationCreate(BaseModel):
    """A new integration: its kind and the kind's creation parameters."""

    model_config = ConfigDict(extra="ignore")

    kind: IntegrationKind = Field(description="The integration kind.")  # type: ignore[valid-type]
    config: dict[str, Any] = Field(default_factory=dict, description="Creation parameters of the kind.")
