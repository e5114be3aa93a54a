"""Request and response models of proxy records (PostHog's ProxyRecordSerializer)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from patchbay.integration.schemas import UserBasic

ProxyStatus = Literal["waiting", "issuing", "valid", "erroring", "deleting"]


class ProxyRecordCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    domain: str = Field(description="The subdomain to proxy, e.g. `ph.example.com`.")


class ProxyRecordOut(BaseModel):
    id: UUID
    domain: str
    target_cname: str = Field(description="Point `domain` at this name with a CNAME record.")
    status: ProxyStatus
    message: str
    created_at: datetime
    updated_at: datetime
    created_by: UserBasic | None


class ProxyRecordPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[ProxyRecordOut]
