"""Response models of the activity log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ActivityOut(BaseModel):
    """One use of the integration: what was done, by which key, and what came of it."""

    id: int
    action: Literal["proxy", "credentials", "refresh", "check"]
    outcome: str = Field(
        description="`success`, or what went wrong (`upstream_error`, `provider_unreachable` …)."
    )
    method: str | None = Field(description="The HTTP method of a proxy call.")
    path: str | None = Field(description="The path below the API base, without the query string.")
    status_code: int | None = Field(description="The status the caller got.")
    duration_ms: float | None
    api_key_id: str | None = Field(description="The id (not the value) of the API key that made the call.")
    created_at: datetime


class ActivityPage(BaseModel):
    """A page of the integration's activity, newest first."""

    count: int
    next: str | None
    previous: str | None
    results: list[ActivityOut]
