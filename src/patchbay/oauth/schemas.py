"""The `config` of an OAuth kind, as documented in the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OAuthCodeConfig(BaseModel):
    """`config` of every OAuth kind (slack, hubspot, linear, …) when the product finishes the flow
    itself: the `code` and `state` the provider returned. Usually the browser callback
    (`/integrations/{kind}/callback`) does this, and nothing needs to be posted."""

    code: str = Field(description="The authorization code from the provider's redirect.")
    state: str = Field(description="The `state` from the provider's redirect, as it came (single use).")
