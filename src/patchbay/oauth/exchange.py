"""The wire side of OAuth: authorize URLs, PKCE, the code exchange, token-info, refresh and revoke
requests. No database here: service.py and refresh.py decide what to store."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from patchbay.config import Settings, kind_env_name
from patchbay.kit.dotted import dot_get
from patchbay.kit.errors import (
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.kit.http import outbound_client, retry_after_seconds
from patchbay.providers.base import Exchange, hook, json_or_none
from patchbay.providers.catalog import FALLBACK_PROVIDERS, OAuthProvider

log = logging.getLogger("patchbay.oauth")

# HubSpot's token-info endpoint takes the access token in its path; httpx logs request URLs at INFO.
_TOKEN_IN_PATH = re.compile(r"(access-tokens/)[^/?#\s\"]+")


class RedactTokenPaths(logging.Filter):
    """Blank out tokens carried in URL paths before httpx's request log line is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _TOKEN_IN_PATH.sub(r"\1[redacted]", str(a)) if isinstance(a, httpx.URL | str) else a
                for a in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, RedactTokenPaths) for f in _httpx_log.filters):
    _httpx_log.addFilter(RedactTokenPaths())

TOKEN_KEYS = ("access_token", "refresh_token", "id_token")
TOKEN_TIMEOUT = 10.0


def _timeout(settings: Settings) -> float:
    return float(getattr(settings, "http_timeout", TOKEN_TIMEOUT) or TOKEN_TIMEOUT)


# --- authorize ----------------------------------------------------------------------------------
def redirect_uri(settings: Settings, kind: str) -> str:
    """`{PATCHBAY_SITE_URL}/integrations/{kind}/callback`, with the scheme the operator configured
    (PostHog forces https; a loopback http:// site must keep working here)."""
    return f"{settings.site_origin}/integrations/{kind}/callback"


def new_pkce_verifier() -> str:
    return secrets.token_urlsafe(64)


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def client_credentials(settings: Settings, kind: str) -> tuple[str, str]:
    client_id = settings.kind_setting(kind, "CLIENT_ID")
    client_secret = settings.kind_setting(kind, "CLIENT_SECRET")
    if not client_id or not client_secret:
        # PostHog's words first (clients may match on them), then what the operator has to set.
        raise ValidationError(
            f"Kind not configured. Set {kind_env_name(kind, 'CLIENT_ID')} and "
            f"{kind_env_name(kind, 'CLIENT_SECRET')} on the Patchbay server."
        )
    return client_id, client_secret


def state_string(next_url: str, token: str, project_id: int) -> str:
    """PostHog's `state`: itself a query string (next, token, team_id)."""
    return urlencode({"next": next_url, "token": token, "team_id": str(project_id)})


def authorize_url(settings: Settings, provider: OAuthProvider, state: str, code_verifier: str | None) -> str:
    client_id, _ = client_credentials(settings, provider.kind)
    base = provider.resolve_authorize_url(settings)
    uri = redirect_uri(settings, provider.kind)
    params: dict[str, str]
    if provider.authorize_style == "tiktok":
        params = {"app_id": client_id, "redirect_uri": uri, "state": state}
    else:
        params = {
            "client_id": client_id,
            "scope": provider.scope,
            "redirect_uri": uri,
            "response_type": "code",
            "state": state,
            **provider.extra_authorize_params,
        }
    if code_verifier:
        params["code_challenge"] = pkce_challenge(code_verifier)
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(params)}"


# --- token endpoint -----------------------------------------------------------------------------
@dataclass
class TokenAnswer:
    status: int
    body: Any
    retry_after: int | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.data.get("access_token"))


async def post_token(
    client: httpx.AsyncClient,
    provider: OAuthProvider,
    url: str,
    fields: dict[str, str],
    client_id: str,
    client_secret: str,
) -> TokenAnswer:
    """POST to a token endpoint, authenticating the client the way the provider wants."""
    headers = dict(provider.token_headers)
    if provider.token_auth == "tiktok":
        payload = {"app_id": client_id, "secret": client_secret}
        if "code" in fields:
            payload["auth_code"] = fields["code"]
        if "refresh_token" in fields:
            payload["refresh_token"] = fields["refresh_token"]
        response = await client.post(url, json=payload, headers=headers)
    elif provider.token_auth in ("basic", "stripe"):
        auth = (client_id, client_secret) if provider.token_auth == "basic" else (client_secret, "")
        body = {k: v for k, v in fields.items() if k != "redirect_uri" or provider.token_auth == "basic"}
        response = await client.post(url, data=body, auth=auth, headers=headers)
    else:
        body = {"client_id": client_id, "client_secret": client_secret, **fields}
        response = await client.post(url, data=body, headers=headers)
    parsed = json_or_none(response)
    if parsed is None:
        parsed = response.text[:300]
    normalize = hook(provider, "normalize_token_response")
    if normalize is not None and isinstance(parsed, dict):
        parsed = normalize(parsed)
    retry_after = retry_after_seconds(response) if response.status_code == 429 else None
    return TokenAnswer(response.status_code, parsed, retry_after)


def provider_error_text(answer: TokenAnswer) -> str | None:
    body = answer.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # {"error": {"code", "message"}}
            return ": ".join(str(v) for v in (error.get("code"), error.get("message")) if v) or None
        description = body.get("error_description") or body.get("message")
        if error and description:
            return f"{error}: {description}"
        if description or error:
            return str(description or error)
        return None
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def exchange_failure(kind: str, answer: TokenAnswer) -> Exception:
    if answer.status == 429:
        return ProviderRateLimited(kind, answer.retry_after)
    text = provider_error_text(answer)
    if answer.status >= 500:
        return ProviderUnavailable(f"{kind} OAuth failed (status {answer.status}). Please try again.")
    if text:
        return ValidationError(f"{kind} OAuth failed: {text}")
    return ValidationError(f"{kind} OAuth failed (status {answer.status}). Please try again.")


# --- the code exchange --------------------------------------------------------------------------
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
    async with outbound_client(timeout=_timeout(settings)) as client:
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
            enrich = hook(provider, "enrich")
            if enrich is not None:
                await enrich(exchange)
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


# --- refresh and revoke requests ------------------------------------------------------------------
@dataclass
class RefreshAnswer:
    ok: bool
    data: dict[str, Any]
    failure: str | None = None  # invalid_grant, invalid_client, http_5xx, rate_limited, network, other
    status: int | None = None
    retry_after: int | None = None


def classify(provider: OAuthProvider, answer: TokenAnswer) -> str:
    special = hook(provider, "classify_refresh_error")
    if special is not None:
        found = special(answer.status, answer.body)
        if found:
            return str(found)
    error = answer.data.get("error")
    if error == "invalid_grant":
        return "invalid_grant"
    if error == "invalid_client":
        return "invalid_client"
    if answer.status == 429:
        return "rate_limited"
    if answer.status >= 500:
        return "http_5xx"
    return "other"


def refresh_url(settings: Settings, provider: OAuthProvider, config: dict[str, Any]) -> str:
    special = hook(provider, "refresh_token_url")
    if special is not None:
        url: str = special(provider, settings, config)
        if config.get("sandbox") and provider.fallback_kind and url == provider.resolve_token_url(settings):
            return FALLBACK_PROVIDERS[provider.fallback_kind].resolve_token_url(settings)
        return url
    return provider.resolve_token_url(settings)


async def request_refresh(
    settings: Settings,
    provider: OAuthProvider,
    config: dict[str, Any],
    refresh_token: str,
    client_id: str,
    client_secret: str,
) -> RefreshAnswer:
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token, **provider.refresh_params}
    try:
        async with outbound_client(timeout=_timeout(settings)) as client:
            answer = await post_token(
                client, provider, refresh_url(settings, provider, config), fields, client_id, client_secret
            )
    except httpx.TransportError:
        return RefreshAnswer(False, {}, "network")
    if answer.ok:
        return RefreshAnswer(True, answer.data, status=answer.status)
    return RefreshAnswer(False, answer.data, classify(provider, answer), answer.status, answer.retry_after)


def revoke_url(settings: Settings, provider: OAuthProvider, config: dict[str, Any]) -> str | None:
    special = hook(provider, "revoke_url")
    if special is not None:
        result: str | None = special(provider, settings, config)
        return result
    return provider.resolve(settings, provider.revoke_url) if provider.revoke_url else None


async def request_revoke(settings: Settings, url: str, token: str) -> int | None:
    """Best effort: the status code, or None when the provider could not be reached."""
    try:
        async with outbound_client(timeout=min(5.0, _timeout(settings))) as client:
            response = await client.post(url, data={"token": token})
    except httpx.TransportError:
        return None
    return response.status_code
