"""Query models of the OAuth routes (documented in the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AuthorizeQuery(BaseModel):
    kind: str | None = None
    next: str | None = None


class CallbackQuery(BaseModel):
    code: str | None = None
    state: str | None = None
    error: str | None = None


class OAuthCodeConfig(BaseModel):
    """`config` of every OAuth kind (slack, hubspot, linear, …) when the product finishes the flow
    itself: the `code` and `state` the provider returned. Usually the browser callback
    (`/integrations/{kind}/callback`) does this, and nothing needs to be posted."""

    code: str = Field(description="The authorization code from the provider's redirect.")
    state: str = Field(description="The `state` from the provider's redirect, as it came (single use).")
