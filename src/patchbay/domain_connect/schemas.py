"""Request and response models of the Domain Connect routes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ProviderChoice(BaseModel):
    """A DNS provider Patchbay can send Domain Connect requests to."""

    endpoint: str
    name: str


class DnsHost(BaseModel):
    """The DNS provider detected for a domain and its Domain Connect settings endpoint."""

    name: str
    dns_settings_url: str


class DomainConnectCheck(BaseModel):
    """Whether a domain's DNS provider supports Domain Connect, and which email tools its records show."""

    supported: bool
    provider_name: str | None
    available_providers: list[ProviderChoice] = Field(
        description="Every allowed DNS provider when the domain's is not detected (empty when supported)."
    )
    dns_host: DnsHost | None
    existing_email_tools: list[str]


class ApplyUrlRequest(BaseModel):
    """What to build a signed Domain Connect apply URL for."""

    model_config = ConfigDict(extra="ignore")

    context: str | None = Field(None, description="`email` or `proxy`: which resource to set up.")
    integration_id: int | None = Field(None, description="The email sender (context `email`).")
    proxy_record_id: UUID | None = Field(
        None, description="A proxy record of the project's organization (context `proxy`)."
    )
    redirect_uri: str | None = Field(
        None,
        description="Where the DNS provider sends the browser after approval. Omit it when handing the URL to a person.",
    )
    provider_endpoint: str | None = Field(
        None, description="An `available_providers[].endpoint`, to skip DNS auto-detection."
    )


class ApplyUrl(BaseModel):
    """A signed Domain Connect URL; open it in a browser to apply the records at the DNS provider."""

    url: str
