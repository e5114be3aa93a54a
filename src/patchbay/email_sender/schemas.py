"""Request and response models of the email sender routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EmailConfig(BaseModel):
    """`config` of an `email` integration: a sender address on a domain the organization owns. The
    domain is set up at the email provider; verify it with `…/email/verify/` once its DNS records exist."""

    email: str = Field(description="The sender address.", examples=["hello@example.com"])
    name: str = Field(description="The sender's display name.", examples=["Example"])
    provider: Literal["ses", "maildev"] | None = Field(
        None,
        description="`ses` (Amazon SES) or, on servers that run with PATCHBAY_EMAIL_PROVIDER=maildev, "
        "`maildev`. Default: the server's provider.",
    )
    mail_from_subdomain: str | None = Field(
        None,
        description="Subdomain used as the MAIL FROM domain (default `feedback`).",
        examples=["feedback"],
    )


class SenderChanges(BaseModel):
    """Changes to an email sender."""

    model_config = ConfigDict(extra="ignore")

    config: dict[str, Any] = Field(
        default_factory=dict, description="`name` and/or `mail_from_subdomain` (blank means `feedback`)."
    )


class DnsRecord(BaseModel):
    """A DNS record the sender's domain needs, and whether it is in place."""

    type: str = Field(description="verification, dkim, mail_from, spf or dmarc")
    recordType: str
    recordHostname: str
    recordValue: str
    status: Literal["success", "pending"]


class VerificationResult(BaseModel):
    """The state of an email sender's domain: `success` once every record checks out."""

    status: Literal["success", "pending"]
    dnsRecords: list[DnsRecord]
