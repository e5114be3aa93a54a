"""What a provider module receives when it adds to a code exchange, and small helpers they share.

A provider module (named by `OAuthProvider.module`) may define any of:
  normalize_token_response(data) -> dict          reshape the token answer before it is read
  async enrich(exchange: Exchange) -> None         fetch/derive config fields after the exchange
  classify_refresh_error(status, body) -> str|None a provider-specific failure class
  refresh_token_url(provider, settings, config) -> str   where a refresh is posted
  revoke_url(provider, settings, config) -> str|None     where a revoke is posted
"""

from __future__ import annotations

import base64
import importlib
from dataclasses import dataclass
from types import ModuleType
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


def provider_module(provider: OAuthProvider) -> ModuleType | None:
    if not provider.module:
        return None
    return importlib.import_module(f"patchbay.providers.{provider.module}")


def hook(provider: OAuthProvider, name: str) -> Any:
    module = provider_module(provider)
    return getattr(module, name, None) if module is not None else None


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
