"""Request and response models of the email sender routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SenderChanges(BaseModel):
    model_config = ConfigDict(extra="ignore")

    config: dict[str, Any] = Field(
        default_factory=dict, description="`name` and/or `mail_from_subdomain` (blank means `feedback`)."
    )


class DnsRecord(BaseModel):
    type: str = Field(description="verification, dkim, mail_from, spf or dmarc")
    recordType: str
    recordHostname: str
    recordValue: str
    status: Literal["success", "pending"]


class VerificationResult(BaseModel):
    status: Literal["success", "pending"]
    dnsRecords: list[DnsRecord]
