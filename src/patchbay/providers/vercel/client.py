"""Calls to Vercel's REST API: the code exchange of "link existing account", installation liveness
and the marketplace resource import that carries environment secrets. Base URL from
PATCHBAY_VERCEL_API_URL (default https://api.vercel.com)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.errors import ProviderUnavailable, ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, send, to_api_error
from patchbay.kit.retry import RetryPolicy, with_retries

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.vercel.com"
# Outages (timeouts, connection errors, 5xx) are retried this many times in all, with a short
# exponential pause; 4xx answers are never retried.
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.25


@dataclass(frozen=True)
class TokenExchange:
    access_token: str = field(repr=False)
    token_type: str
    installation_id: str
    user_id: str
    team_id: str | None


def api_url(settings: Settings) -> str:
    return (settings.kind_setting("vercel", "API_URL") or DEFAULT_API_URL).rstrip("/")


def _vercel_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or "")
        if isinstance(error, str):
            return str(body.get("error_description") or error)
    return ""


class VercelClient:
    def __init__(self, settings: Settings, *, backoff: float = BACKOFF_SECONDS) -> None:
        self.base_url = api_url(settings)
        self.backoff = backoff
        self.timeout = settings.http_timeout

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One logical call: outages (transport errors, 5xx) retried under the kit's policy, then
        answered as 503/502; 429 as 429; other answers handed back to the caller."""
        policy = RetryPolicy(attempts=MAX_ATTEMPTS, backoff=self.backoff)

        async def once() -> httpx.Response:
            async with outbound_client(timeout=self.timeout) as client:
                try:
                    response = await send(client, "vercel", method, self.base_url + path, **kwargs)
                except UpstreamError as exc:
                    log.warning("vercel %s %s: %s", method, path.split("?")[0], exc.reason)
                    raise
            if response.status_code >= 500 or response.status_code == 429:
                error = classify_status("vercel", response)
                assert error is not None
                if error.failure is Failure.UNAVAILABLE:
                    log.warning("vercel %s %s answered %s", method, path.split("?")[0], response.status_code)
                raise error
            return response

        try:
            return await with_retries(once, policy)
        except UpstreamError as exc:
            raise to_api_error(exc, "Vercel") from None

    async def exchange_code(
        self, *, code: str, client_id: str, client_secret: str, redirect_uri: str
    ) -> TokenExchange:
        response = await self._send(
            "POST",
            "/v2/oauth/access_token",
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict) or body.get("error"):
            log.warning(
                "vercel code exchange refused: %s %s", response.status_code, _vercel_message(response)
            )
            if response.status_code < 400 and not isinstance(body, dict):
                raise ProviderUnavailable("Vercel answered the code exchange with something unreadable.")
            raise ValidationError(
                "Vercel authentication failed. Please start linking again from Vercel.",
                code="vercel_authentication_failed",
            )
        try:
            return TokenExchange(
                access_token=str(body["access_token"]),
                token_type=str(body.get("token_type") or "Bearer"),
                installation_id=str(body["installation_id"]),
                user_id=str(body["user_id"]),
                team_id=str(body["team_id"]) if body.get("team_id") else None,
            )
        except KeyError:
            raise ProviderUnavailable("Vercel's code exchange answer lacked required fields.") from None

    @staticmethod
    def _query(team_id: str | None) -> dict[str, str]:
        return {"teamId": team_id} if team_id else {}

    async def installation_alive(
        self, *, access_token: str, installation_id: str, team_id: str | None
    ) -> bool:
        """True when Vercel still knows the installation; False when it says 401/403/404.
        Outages raise (the caller keeps what it has rather than guess)."""
        response = await self._send(
            "GET",
            f"/v1/installations/{installation_id}",
            params=self._query(team_id),
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status_code in (401, 403, 404):
            return False
        return response.is_success

    async def import_resource(
        self,
        *,
        access_token: str,
        installation_id: str,
        resource_id: str,
        team_id: str | None,
        body: dict[str, Any],
    ) -> None:
        response = await self._send(
            "PUT",
            f"/v1/installations/{installation_id}/resources/{resource_id}",
            params=self._query(team_id),
            json=body,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status_code in (401, 403):
            raise UpstreamError("vercel", Failure.AUTH, f"http {response.status_code}")
        if response.status_code == 404:
            raise UpstreamError("vercel", Failure.NOT_FOUND, "http 404")
        if not response.is_success:
            message = _vercel_message(response)
            log.warning("vercel resource import refused: %s %s", response.status_code, message)
            raise ProviderUnavailable(
                f"Vercel refused the resource import ({response.status_code}"
                + (f": {message}" if message else "")
                + ")."
            )
