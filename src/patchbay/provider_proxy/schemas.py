"""Response models of the credentials route."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class CredentialsOut(BaseModel):
    """Fresh credentials of one integration, for the product's backend to call the provider itself.
    The refresh token never leaves Patchbay."""

    id: int
    kind: str
    auth_type: Literal["oauth2", "basic"]
    expires_at: datetime | None = Field(
        description="When an OAuth access token expires (null: not known or never)."
    )
    credentials: dict[str, Any] = Field(
        description='`oauth2`: `{"access_token", "token_type"}`; `basic` (Twilio): `{"account_sid", "auth_token"}`.'
    )
