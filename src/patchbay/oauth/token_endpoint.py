"""The token endpoint: one POST (client authenticated the provider's way), its answer, and how a
failed code exchange reaches the caller. httpx's request log never shows a token carried in a path."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ValidationError
from patchbay.kit.retry_after import retry_after_seconds
from patchbay.providers import registry
from patchbay.providers.catalog import OAuthProvider
from patchbay.providers.oauth_helpers import json_or_none

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
    style = registry.token_auth(provider)
    response = await style.post(client, url, fields, client_id, client_secret, headers)
    parsed = json_or_none(response)
    if parsed is None:
        parsed = response.text[:300]
    if isinstance(parsed, dict):
        parsed = registry.oauth_quirks(provider.kind).normalize_token_response(parsed)
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


