"""The code exchange: the token request (with the fallback endpoints), token-info, the provider's
enrichment, and the account it identifies. No database here: service.py decides what to store."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.dotted import dot_get
from patchbay.kit.errors import ProviderUnavailable, ProviderUnreachable
from patchbay.kit.http import outbound_client
from patchbay.oauth.authorize import client_credentials, http_timeout, redirect_uri
from patchbay.oauth.token_endpoint import exchange_failure, post_token
from patchbay.providers import registry
from patchbay.providers.catalog import FALLBACK_PROVIDERS, OAuthProvider
from patchbay.providers.oauth_helpers import Exchange, json_or_none

log = logging.getLogger("patchbay.oauth")

TOKEN_KEYS = ("access_token", "refresh_token", "id_token")


@dataclass
class ExchangedAccount:
    integration_id: str
    config: dict[str, Any]
    secrets: dict[str, Any]


def _pop_path(data: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    current: Any = data
    for part in parts[:-1]:
        current = current.get(part) if isinstance(current, dict) else None
    if isinstance(current, dict) and parts[-1] in current:
        return current.pop(parts[-1])
    return None


def split_token_response(
    provider: OAuthProvider, data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tokens and other credentials go to the secrets; everything else the provider said is config."""
    config = {k: v for k, v in data.items() if k not in TOKEN_KEYS}
    secrets_out: dict[str, Any] = {key: data.get(key) for key in TOKEN_KEYS}
    for path in provider.secret_paths:
        value = _pop_path(config, path)
        if value is not None:
            secrets_out[path] = value
    return config, secrets_out


async def exchange_code(
    settings: Settings, provider: OAuthProvider, code: str, code_verifier: str | None
) -> ExchangedAccount:
    kind = provider.kind
    client_id, client_secret = client_credentials(settings, kind)
    fields = {"code": code, "redirect_uri": redirect_uri(settings, kind), "grant_type": "authorization_code"}
    if code_verifier:
        fields["code_verifier"] = code_verifier
    async with outbound_client(timeout=http_timeout(settings)) as client:
        try:
            answer = await post_token(
                client, provider, provider.resolve_token_url(settings), fields, client_id, client_secret
            )
            used_fallback = False
            if not answer.ok and provider.fallback_kind:
                fallback = FALLBACK_PROVIDERS[provider.fallback_kind]
                retry = await post_token(
                    client, provider, fallback.resolve_token_url(settings), fields, client_id, client_secret
                )
                if retry.ok:
                    answer, used_fallback = retry, True
        except httpx.TransportError:
            raise ProviderUnreachable(
                f"{kind} did not respond in time. Please try connecting again."
            ) from None
        if not answer.ok:
            raise exchange_failure(kind, answer)

        config, secret_values = split_token_response(provider, answer.data)
        if used_fallback:
            config["sandbox"] = True
        if config.get("expires_in") is None and provider.default_expires_in:
            config["expires_in"] = provider.default_expires_in
        exchange = Exchange(provider, settings, client, client_id, client_secret, config, secret_values)
        try:
            await _token_info(exchange)
            await registry.oauth_quirks(kind).enrich(exchange)
        except httpx.TransportError:
            raise ProviderUnreachable(
                f"{kind} did not respond in time while we confirmed your account. Please try connecting again."
            ) from None

    integration_id = dot_get(config, provider.id_path)
    if isinstance(integration_id, bool):
        integration_id = None
    if isinstance(integration_id, int):
        integration_id = str(integration_id)
    if isinstance(integration_id, list) and integration_id:
        integration_id = ",".join(str(v) for v in integration_id)
    if not isinstance(integration_id, str) or not integration_id:
        raise ProviderUnavailable(f"Oauth error: failed to extract integration ID for {kind}")
    config["refreshed_at"] = int(time.time())
    return ExchangedAccount(integration_id, config, secret_values)


async def _token_info(exchange: Exchange) -> None:
    provider = exchange.provider
    if not provider.token_info_url:
        return
    url = exchange.url(provider.token_info_url).replace(
        ":access_token", str(exchange.secrets["access_token"])
    )
    if provider.token_info_graphql:
        response = await exchange.client.post(
            url, json={"query": provider.token_info_graphql}, headers=exchange.bearer()
        )
    else:
        response = await exchange.client.get(url, headers=exchange.bearer())
    body = json_or_none(response)
    if response.status_code != 200 or not isinstance(body, dict):
        log.warning("token-info call failed", extra={"kind": provider.kind, "status": response.status_code})
        return
    for field_path in provider.token_info_fields:
        exchange.config[field_path] = dot_get(body, field_path)


