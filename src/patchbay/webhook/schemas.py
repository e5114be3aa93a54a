"""Request and response models of webhooks (CONTRACT §6.4)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from patchbay.integration.schemas import UserBasic

EVENTS_DESCRIPTION = (
    'Event types to receive, or `["*"]` for all: integration.created, integration.updated, '
    "integration.deleted, integration.refresh_failed, integration.reauthorization_required, "
    "integration.recovered, org_integration.created, org_integration.deleted, ping."
)


class WebhookCreate(BaseModel):
    """An endpoint to create: where events go and which."""

    model_config = ConfigDict(extra="ignore")

    url: str = Field(description="An https URL on a public address.")
    events: list[str] = Field(default_factory=lambda: ["*"], description=EVENTS_DESCRIPTION)
    description: str = Field(default="", max_length=1000)
    enabled: bool = True


class WebhookUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="ignore")

    url: str | None = None
    events: list[str] | None = Field(default=None, description=EVENTS_DESCRIPTION)
    description: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = Field(default=None, description="Enabling again clears `disabled_reason`.")


class WebhookOut(BaseModel):
    """A webhook endpoint (its secret is never shown again after create or rotate-secret)."""

    id: UUID
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why Patchbay disabled the endpoint (410 Gone, 3 days of failures)."
    )
    created_at: datetime
    updated_at: datetime
    created_by: UserBasic | None


class WebhookWithSecret(WebhookOut):
    """An endpoint with its `whsec_` secret: the answer to create and rotate-secret only."""

    secret: str = Field(description="`whsec_…`: shown in this answer only. Verify signatures with it.")


class WebhookPage(BaseModel):
    """A page of webhook endpoints."""

    count: int
    next: str | None
    previous: str | None
    results: list[WebhookOut]


class DeliveryOut(BaseModel):
    """One delivery of one event to one endpoint, with its attempts and last answer."""

    id: UUID
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    count: int
    next: str | None
    previous: str | None
    results: list[DeliveryOut]
