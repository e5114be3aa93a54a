"""S3-compatible object stores (Cloudflare R2, DigitalOcean Spaces, MinIO, …): a name, an access key
and the store's endpoint URL. The endpoint is the user's, so it passes the address guard and the
check (ListBuckets, signed with botocore's SigV4) goes to the checked address only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.http import guarded_client
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, Provider
from patchbay.providers.fields import duplicate_name, required_text
from patchbay.providers.s3_compatible import simulator

KIND_LABEL = "S3-compatible"
# Codes that say the key itself is wrong; AccessDenied only says it may not list buckets (a
# bucket-scoped key), which proves the key and is accepted.
BAD_KEY_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "AuthorizationHeaderMalformed"}


class S3CompatibleConfig(BaseModel):
    """`config` of an `s3-compatible` integration: a name of your choosing, the store's endpoint and an
    access key, proved with ListBuckets. The name is the id; the key is stored encrypted."""

    name: str = Field(description="A name for these credentials, unique in the project.", examples=["my-r2"])
    endpoint_url: str = Field(
        description="The store's endpoint; must resolve to a public address.",
        examples=["https://0123abcd.r2.cloudflarestorage.com"],
    )
    aws_access_key_id: str = Field(description="Access key ID. Never returned.", json_schema_extra={"writeOnly": True})
    aws_secret_access_key: str = Field(
        description="Secret access key. Never returned.", json_schema_extra={"writeOnly": True}
    )
    region: str | None = Field(None, description="Signing region (default us-east-1; R2 accepts auto).")


def _endpoint_host(endpoint_url: str) -> str:
    """PostHog's shape checks of an endpoint URL, in its words."""
    if "\\" in endpoint_url or "%5c" in endpoint_url.lower():
        raise ValidationError("Invalid endpoint URL: Invalid URL: ambiguous authority")
    try:
        parts = urlsplit(endpoint_url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationError("Invalid endpoint URL: Invalid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise ValidationError("Invalid endpoint URL: URL must start with http:// or https://")
    if not parts.netloc or not parts.hostname:
        raise ValidationError("Invalid endpoint URL: Missing host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Invalid endpoint URL: URL must not contain credentials")
    return parts.hostname


def _signed_headers(url: str, key_id: str, secret: str, region: str) -> dict[str, str]:
    # botocore costs ~3 MB per worker: loaded on the first S3-compatible check.
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=url, data=b"")
    S3SigV4Auth(Credentials(key_id, secret), "s3", region).add_auth(request)
    return {name: value for name, value in request.headers.items() if name.lower() != "host"}


def _error_code(response: httpx.Response) -> tuple[str, str]:
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return "", ""
    return root.findtext("Code") or "", root.findtext("Message") or ""


async def list_buckets(settings: Settings, endpoint_url: str, host: str, key_id: str, secret: str, region: str) -> None:
    url = endpoint_url.rstrip("/") + "/"
    try:
        async with await guarded_client(settings, host, timeout=settings.http_timeout) as http:
            response = await http.get(url, headers=_signed_headers(url, key_id, secret, region))
    except HostNotAllowed:
        raise ValidationError(f"Invalid endpoint URL: {host} does not resolve to a public address") from None
    except httpx.TransportError:
        raise ProviderUnreachable(
            f"The S3-compatible endpoint {endpoint_url} could not be reached. Check the URL, then try again."
        ) from None
    if response.status_code == 200:
        return
    code, message = _error_code(response)
    if code in BAD_KEY_CODES or response.status_code == 401:
        raise ValidationError(f"S3-compatible credentials are not valid: {message or code or response.status_code}")
    if response.status_code == 403:
        return  # AccessDenied: a valid key without the ListBuckets permission
    if response.status_code == 429 or code == "SlowDown":
        raise ProviderRateLimited("The S3-compatible endpoint", None)
    raise ProviderUnavailable(
        f"The S3-compatible endpoint answered HTTP {response.status_code} while we checked the credentials."
    )


class S3CompatibleCredentials:
    config_model = S3CompatibleConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        name = required_text(config, "name", "A name", KIND_LABEL)
        key_id = required_text(config, "aws_access_key_id", "Access key ID", KIND_LABEL)
        secret = required_text(config, "aws_secret_access_key", "Secret access key", KIND_LABEL)
        endpoint_url = required_text(config, "endpoint_url", "Endpoint URL", KIND_LABEL)
        host = _endpoint_host(endpoint_url)
        region = config.get("region")
        if region is not None and (not isinstance(region, str) or not region):
            raise ValidationError("Region must be a non-empty string")
        await list_buckets(settings, endpoint_url, host, key_id, secret, region or "us-east-1")
        public: dict[str, Any] = {"name": name, "endpoint_url": endpoint_url}
        if region:
            public["region"] = region
        return BuiltCredentials(
            integration_id=name,
            config=public,
            sensitive_config={"aws_access_key_id": key_id, "aws_secret_access_key": secret},
            refuse_existing=duplicate_name(name),
        )


PROVIDER = registry.register(
    Provider(
        name="s3_compatible",
        display_name="S3-compatible storage",
        kinds=("s3-compatible",),
        credential_kind=S3CompatibleCredentials(),
        simulators=(simulator,),
    )
)
