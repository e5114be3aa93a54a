"""Azure Blob Storage: a connection string, checked in PostHog's words, its endpoints through the
address guard, and proved with Get Account Information signed by azure-storage-blob's Shared Key
policy and sent (pinned) through the guarded client."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.http import guarded_client
from patchbay.providers import registry
from patchbay.providers.azure_blob import simulator
from patchbay.providers.base import BuiltCredentials, Provider

NO_ACCOUNT_NAME = (
    "Could not extract AccountName from connection string. Ensure it contains 'AccountName=<your-account-name>;'"
)
ENDPOINT_KEYS = ("BLOBENDPOINT", "BLOBSECONDARYENDPOINT", "FILEENDPOINT", "TABLEENDPOINT", "QUEUEENDPOINT")
API_VERSION = "2021-08-06"


class AzureBlobConfig(BaseModel):
    """`config` of an `azure-blob` integration: the storage account's connection string (with
    AccountKey), proved with Get Account Information. Stored encrypted; the account name is the id."""

    connection_string: str = Field(
        description="DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net. "
        "Never returned.",
        json_schema_extra={"writeOnly": True},
    )


def parse(connection_string: str) -> dict[str, str]:
    """As the SDK parses it (keys upper-cased, later duplicates win), but stricter on padded keys."""
    settings: dict[str, str] = {}
    for part in connection_string.rstrip(";").split(";"):
        key, sep, value = part.partition("=")
        if not sep or key != key.strip():
            raise ValidationError("Malformed connection string")
        settings[key.upper()] = value
    return settings


async def _guard(settings: Settings, endpoint: str) -> tuple[str, bool]:
    """The endpoint's host, and whether it lies inside the operator's allowed networks (where plain
    http is accepted, for local emulators); internal hosts are refused in PostHog's words."""
    host = urlsplit(endpoint).hostname or ""
    try:
        addresses = await ensure_public_host(settings, host)
    except (HostNotAllowed, ValueError):
        raise ValidationError(f"Invalid endpoint found in connection string: {host or endpoint} is not allowed") from None
    networks = settings.user_host_networks()
    inside = all(
        any(ipaddress.ip_address(a).version == n.version and ipaddress.ip_address(a) in n for n in networks)
        for a in addresses
    )
    return host, inside


async def blob_endpoint(settings: Settings, values: dict[str, str]) -> str:
    if values.get("USEDEVELOPMENTSTORAGE", "").lower() == "true":
        raise ValidationError("Emulator account not supported")
    protocol = values.get("DEFAULTENDPOINTSPROTOCOL", "https").lower()
    if protocol not in ("http", "https"):
        raise ValidationError("'DefaultEndpointsProtocol' must be 'http' or 'https'")
    account = values.get("ACCOUNTNAME")
    if not account:
        raise ValidationError(NO_ACCOUNT_NAME)
    blob = values.get("BLOBENDPOINT") or f"{protocol}://{account}.blob.{values.get('ENDPOINTSUFFIX') or 'core.windows.net'}"
    endpoints = [values[key] for key in ENDPOINT_KEYS if key in values] + ([] if "BLOBENDPOINT" in values else [blob])
    for endpoint in endpoints:
        scheme = urlsplit(endpoint).scheme.lower()
        if scheme not in ("http", "https"):
            raise ValidationError("Invalid endpoint found in connection string: URL must start with http:// or https://")
        _, inside = await _guard(settings, endpoint)
        # https closes the rebinding window at connect time; plain http only for local emulators.
        if scheme != "https" and not inside:
            raise ValidationError("Endpoints in the connection string must use https")
    return blob


def signed_headers(url: str, account: str, key: str) -> dict[str, str]:
    # azure-storage-blob (with azure-core and requests) costs ~10 MB per worker: loaded on first use.
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.pipeline.transport import HttpRequest
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    request = HttpRequest("GET", url, headers={"x-ms-date": formatdate(usegmt=True), "x-ms-version": API_VERSION})
    SharedKeyCredentialPolicy(account, key).on_request(PipelineRequest(request, PipelineContext(None)))
    return dict(request.headers)


async def account_information(settings: Settings, endpoint: str, account: str, key: str) -> None:
    url = endpoint.rstrip("/") + "/?restype=account&comp=properties"
    host = urlsplit(endpoint).hostname or ""
    try:
        headers = signed_headers(url, account, key)
    except Exception:  # noqa: BLE001 - a key that is not base64 cannot sign anything
        raise ValidationError("The AccountKey in the connection string is not valid") from None
    try:
        async with await guarded_client(settings, host, timeout=settings.http_timeout) as http:
            response = await http.get(url, headers=headers)
    except HostNotAllowed:
        raise ValidationError(f"Invalid endpoint found in connection string: {host} is not allowed") from None
    except httpx.TransportError:
        raise ProviderUnreachable(
            "Azure Storage could not be reached while we checked the connection string. Please try again."
        ) from None
    if response.status_code == 200:
        return
    try:
        code = ET.fromstring(response.content).findtext("Code") or ""
    except ET.ParseError:
        code = ""
    if response.status_code in (401, 403, 404):
        raise ValidationError(f"Azure Storage refused the connection string ({code or response.status_code})")
    if code == "ServerBusy" or response.status_code == 429:
        raise ProviderRateLimited("Azure Storage", None)
    raise ProviderUnavailable(
        "Azure Storage answered with an error while we checked the connection string. Please try again later."
    )


class AzureBlobCredentials:
    config_model = AzureBlobConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        connection_string = config.get("connection_string")
        if not connection_string:
            raise ValidationError("Connection string must be provided")
        if not isinstance(connection_string, str):
            raise ValidationError("Connection string must be a string")
        values = parse(connection_string)
        if not values.get("ACCOUNTNAME"):
            raise ValidationError(NO_ACCOUNT_NAME)
        endpoint = await blob_endpoint(settings, values)
        account, key = values["ACCOUNTNAME"], values.get("ACCOUNTKEY")
        if not key:
            raise ValidationError("The connection string must contain an AccountKey")
        await account_information(settings, endpoint, account, key)
        return BuiltCredentials(
            integration_id=account, config={}, sensitive_config={"connection_string": connection_string}
        )


PROVIDER = registry.register(
    Provider(
        name="azure_blob",
        display_name="Azure Blob Storage",
        kinds=("azure-blob",),
        credential_kind=AzureBlobCredentials(),
        simulators=(simulator,),
    )
)
