"""A Google service-account key proved the way Google's libraries do it: google-auth reads the key
and signs the JWT grant (RFC 7523), which is exchanged for an access token at the kind's
PATCHBAY_<KIND>_TOKEN_URL (Google's token endpoint by default) through the one outbound client."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import UpstreamError, json_body, send

GOOGLE_TOKEN_URIS = frozenset({"https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/token"})
INVALID_TOKEN_URI = (
    "The token_uri in your Google Cloud JSON key file is not Google's OAuth token endpoint. Please download "
    "a fresh service account key from Google Cloud and re-upload the JSON file without editing it."
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPES = {
    "google-pubsub": "https://www.googleapis.com/auth/pubsub",
    "google-cloud-storage": "https://www.googleapis.com/auth/devstorage.read_write",
    "google-cloud-service-account": "https://www.googleapis.com/auth/cloud-platform",
    "firebase": "https://www.googleapis.com/auth/firebase.messaging",
}


@dataclass(frozen=True)
class Token:
    service_account_email: str
    access_token: str
    expires_in: float


def require_google_token_uri(token_uri: object) -> str:
    if not isinstance(token_uri, str) or token_uri.strip() not in GOOGLE_TOKEN_URIS:
        raise ValidationError(INVALID_TOKEN_URI)
    return token_uri.strip()


class KeyRefused(Exception):
    """The key could not be read or signed, or Google refused the grant (the caller words it)."""


async def exchange(settings: Settings, kind: str, key_info: dict[str, Any]) -> Token:
    """An access token for the key, or KeyRefused; Google failing or down is the envelope (502/503/429)."""
    # google-auth is only needed to sign a grant: loaded on the first key check, not by every worker.
    from google.auth import jwt as google_jwt
    from google.oauth2 import service_account

    token_url = settings.kind_setting(kind, "TOKEN_URL") or str(key_info["token_uri"])
    try:
        credentials = service_account.Credentials.from_service_account_info(key_info, scopes=[SCOPES[kind]])
        now = int(time.time())
        claims = {
            "iss": credentials.service_account_email,
            "scope": SCOPES[kind],
            "aud": token_url,
            "iat": now,
            "exp": now + 3600,
        }
        assertion = google_jwt.encode(credentials.signer, claims).decode()
    except (ValueError, TypeError, KeyError, AttributeError):
        raise KeyRefused() from None
    try:
        async with outbound_client(timeout=httpx.Timeout(settings.http_timeout)) as http:
            response = await send(
                http, kind, "POST", token_url, data={"grant_type": JWT_BEARER, "assertion": assertion}
            )
    except UpstreamError:
        raise ProviderUnreachable(
            "Google could not be reached while we checked the service account key. Please try again."
        ) from None
    if response.status_code == 429:
        raise ProviderRateLimited("Google", None)
    if response.status_code >= 500:
        raise ProviderUnavailable(
            "Google answered with an error while we checked the service account key. Please try again later."
        )
    if response.status_code != 200:
        raise KeyRefused()
    try:
        body = json_body(kind, response)
    except UpstreamError:
        raise ProviderUnavailable("Google sent an answer we could not read. Please try again later.") from None
    token, expires_in = (body.get("access_token"), body.get("expires_in")) if isinstance(body, dict) else (None, None)
    if not isinstance(token, str) or not isinstance(expires_in, int | float):
        raise ProviderUnavailable("Google sent an answer we could not read. Please try again later.")
    return Token(credentials.service_account_email, token, float(expires_in))

