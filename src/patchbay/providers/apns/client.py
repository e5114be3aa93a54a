"""Apple Push Notification service: the provider token (an ES256 JWT signed with the team's .p8
key, `kid` the key id, `iss` the team id) and the one call that proves key, team and topic without
reaching a phone — a push to a device token that cannot exist, which APNs refuses with
BadDeviceToken only once the token and topic are accepted. APNs speaks HTTP/2 only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, send

DEFAULT_URLS = {"production": "https://api.push.apple.com", "sandbox": "https://api.sandbox.push.apple.com"}
UNUSED_DEVICE_TOKEN = "0" * 64  # never issued: APNs answers BadDeviceToken after checking the rest


class BadKey(ValueError):
    """The signing key is not an EC P-256 private key in PEM (.p8) form."""


def load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnicodeError):
        raise BadKey from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadKey
    return key


def provider_token(key: ec.EllipticCurvePrivateKey, key_id: str, team_id: str, now: float | None = None) -> str:
    """The JWT APNs takes as `authorization: bearer …` (valid for an hour)."""
    issued = int(now if now is not None else time.time())
    return jwt.encode({"iss": team_id, "iat": issued}, key, algorithm="ES256", headers={"kid": key_id})


def api_url(settings: Settings, environment: str) -> str:
    suffix = "API_URL" if environment == "production" else "SANDBOX_API_URL"
    return (settings.kind_setting("apns", suffix) or DEFAULT_URLS[environment]).rstrip("/")


@dataclass(frozen=True)
class Verdict:
    """APNs' answer to the probe push: None when key, team and topic were accepted."""

    reason: str | None


async def probe(settings: Settings, environment: str, token: str, bundle_id: str) -> Verdict:
    """POST /3/device/<unused token>; raises UpstreamError for outages and rate limits."""
    headers = {
        "authorization": f"bearer {token}",
        "apns-topic": bundle_id,
        "apns-push-type": "alert",
        "apns-priority": "5",
        "apns-expiration": "0",
    }
    async with outbound_client(timeout=httpx.Timeout(settings.http_timeout), http2=True) as http:
        response = await send(
            http, "apns", "POST", f"{api_url(settings, environment)}/3/device/{UNUSED_DEVICE_TOKEN}",
            headers=headers, json={"aps": {"alert": "Patchbay credentials check"}},
        )  # fmt: skip
    reason = _reason(response)
    if response.status_code == 429:
        raise UpstreamError("apns", Failure.RATE_LIMITED, f"http 429 {reason}", retry_after=60)
    if response.status_code >= 500:
        raise UpstreamError("apns", Failure.UNAVAILABLE, f"http {response.status_code}")
    if response.status_code == 400 and reason == "BadDeviceToken":
        return Verdict(None)
    if response.status_code == 200 and response.headers.get("apns-id"):  # a real device took it
        return Verdict(None)
    if response.status_code == 200:
        raise UpstreamError("apns", Failure.UNAVAILABLE, "malformed body")
    if reason is None:
        raise UpstreamError("apns", Failure.UNAVAILABLE, f"http {response.status_code} without a reason", retryable=False)
    return Verdict(reason)


def _reason(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else None
