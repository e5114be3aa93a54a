"""Request and response models of proxy records (PostHog's ProxyRecordSerializer)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from patchbay.integration.schemas import UserBasic

ProxyStatus = Literal["waiting", "issuing", "valid", "erroring", "deleting"]


class ProxyRecordCreate(BaseModel):
    """A domain to serve through a managed reverse proxy."""

    model_config = ConfigDict(extra="ignore")

    domain: str = Field(description="The subdomain to proxy, e.g. `ph.example.com`.")


class ProxyRecordOut(BaseModel):
    """A managed reverse-proxy domain and the state of its certificate."""

    id: UUID
    domain: str
    target_cname: str = Field(description="Point `domain` at this name with a CNAME record.")
    status: ProxyStatus
    message: str
    created_at: datetime
    updated_at: datetime
    created_by: UserBasic | None


class ProxyRecordPage(BaseModel):
    """One page of proxy records; `next`/`previous` are absolute URLs."""

    count: int
    next: str | None
    previous: str | None
    results: list[ProxyRecordOut]
