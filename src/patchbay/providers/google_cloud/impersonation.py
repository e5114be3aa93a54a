"""Impersonating a service account (the keyless variant of `google-cloud-service-account`): Patchbay's
own service account (PATCHBAY_GOOGLE_IMPERSONATION_KEY, its JSON key file) gets a token, then asks the
IAM Credentials API for a short-lived token of the user's account (`generateAccessToken`), which
Google grants only when the user gave Patchbay's account the Service Account Token Creator role on
theirs. Nothing secret is stored: the account is impersonated again whenever it is used."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.credential_check import check_failed, fetch_json
from patchbay.providers.google_cloud.token import KeyRefused, exchange, require_google_token_uri

KIND = "google-cloud-service-account"
DEFAULT_IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
NO_IDENTITY = (
    "Impersonating a service account needs a Google identity of this server's own, and none is "
    "configured. Provide the service account's private_key, private_key_id and token_uri instead."
)
OWN_KEY_BROKEN = (
    "This server's own Google service account key was refused by Google. Ask its operator to replace it."
)
REFUSED = (
    "Could not impersonate {email}: grant {own} the Service Account Token Creator role on that "
    "service account, then try again."
)
NOT_FOUND = "Service account {email} does not exist, or {own} may not see it."


def _own_key(settings: Settings) -> dict[str, Any]:
    raw = settings.google_impersonation_key
    if not raw:
        raise ValidationError(NO_IDENTITY)
    try:
        key = json.loads(raw)
    except ValueError:
        key = None
    if not isinstance(key, dict) or not isinstance(key.get("client_email"), str):
        raise ValidationError(OWN_KEY_BROKEN)
    return key


async def impersonate(settings: Settings, email: str) -> None:
    """Prove that Patchbay's own account may act as `email`, or the envelope saying why not."""
    own = _own_key(settings)
    own["token_uri"] = require_google_token_uri(own.get("token_uri"))
    try:
        token = await exchange(settings, KIND, own)
    except KeyRefused:
        raise ValidationError(OWN_KEY_BROKEN) from None
    base = (settings.kind_setting(KIND, "IAM_CREDENTIALS_URL") or DEFAULT_IAM_CREDENTIALS_URL).rstrip("/")
    url = f"{base}/v1/projects/-/serviceAccounts/{quote(email, safe='@.')}:generateAccessToken"
    words = {"email": email, "own": own["client_email"]}
    try:
        async with outbound_client(timeout=httpx.Timeout(settings.http_timeout)) as http:
            await fetch_json(
                http,
                "google-cloud",
                "POST",
                url,
                json={"scope": [CLOUD_PLATFORM], "lifetime": "300s"},
                headers={"Authorization": f"Bearer {token.access_token}"},
            )
    except UpstreamError as exc:
        refused = NOT_FOUND if exc.failure is Failure.NOT_FOUND else REFUSED
        raise check_failed(
            "Google", exc, ValidationError(refused.format(**words), attr="service_account_email")
        ) from None
