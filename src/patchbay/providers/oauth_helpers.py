"""What an OAuth provider package receives when it adds to a code exchange, and helpers they share."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from patchbay.providers.catalog import OAuthProvider


@dataclass
class Exchange:
    provider: OAuthProvider
    settings: Any
    client: httpx.AsyncClient
    client_id: str
    client_secret: str
    config: dict[str, Any]
    secrets: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.provider.kind

    def url(self, default_url: str) -> str:
        return self.provider.resolve(self.settings, default_url)

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('access_token', '')}"}


def jwt_claims(token: Any) -> dict[str, Any]:
    """The payload of a JWT received straight from the provider's token endpoint (not verified:
    it came over the channel we trust for the tokens themselves). {} when it is not a JWT."""
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
