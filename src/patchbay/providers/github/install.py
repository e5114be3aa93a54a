"""The `github` kind as PostHog connects it: a GitHub App installation. The browser installs the app
(its install page, with the state), GitHub sends it back with `installation_id`, and the
installation is read and its first token minted with the app's JWT. Tokens last an hour and have no
refresh token: a new one is minted on demand (`GitHubTokens`), at half-life, like PostHog."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import (
    APIError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.github import app

INVALID_INSTALLATION = "Invalid installation_id"
NO_CODE = "An OAuth code must be provided"
EXCHANGE_FAILED = "Failed to exchange the OAuth code — ensure PATCHBAY_GITHUB_CLIENT_SECRET is configured"
ACCESS_DENIED = "You do not have access to this GitHub installation"
VERIFY_FAILED = "Failed to verify installation access"
TOKEN_LIFETIME_FALLBACK = 3600


class GitHubInstallConfig(BaseModel):
    """`config` of a `github` integration: what GitHub's redirect after installing the app carries.
    Usually not sent by hand: `GET …/integrations/authorize/?kind=github` starts the install and the
    callback creates the integration."""

    installation_id: str = Field(description="The GitHub App installation's id.", examples=["12345678"])
    state: str = Field(description="The `state` of the install redirect (single-use, 10 minutes).")
    code: str | None = Field(
        None,
        description="The redirect's user-authorization code; required when PATCHBAY_GITHUB_CLIENT_ID is set.",
    )


def expires_in_of(token: Mapping[str, Any], now: float) -> int:
    """Seconds until the token's `expires_at` (an ISO time, e.g. 2026-07-11T22:14:10Z)."""
    try:
        at = datetime.fromisoformat(str(token["expires_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return TOKEN_LIFETIME_FALLBACK
    return max(0, int(at.timestamp() - now))


def _token_config(token: Mapping[str, Any], now: float) -> dict[str, Any]:
    config: dict[str, Any] = {"expires_in": expires_in_of(token, now), "refreshed_at": int(now)}
    if isinstance(token.get("repository_selection"), str):
        config["repository_selection"] = token["repository_selection"]
    return config


def _install_failed(error: UpstreamError) -> APIError:
    if error.failure is Failure.NOT_FOUND:
        return ValidationError(INVALID_INSTALLATION, attr="installation_id")
    if error.reason == "installation suspended":
        return ValidationError(
            "This GitHub installation is suspended. Unsuspend it on GitHub and try again.",
            attr="installation_id",
        )
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited("GitHub", error.retry_after)
    if error.failure is Failure.UNREACHABLE:
        return ProviderUnreachable(
            "GitHub did not respond in time while we checked the installation. Please try again."
        )
    if error.failure is Failure.AUTH:
        # The app's own JWT was refused: the operator's app id or key is wrong, not the user's input.
        return ProviderUnavailable(
            "Could not create the GitHub integration: GitHub refused the app's credentials "
            "(check PATCHBAY_GITHUB_APP_ID and PATCHBAY_GITHUB_APP_PRIVATE_KEY)."
        )
    return ProviderUnavailable("Could not create the GitHub integration. Please try again later.")


class GitHubInstall:
    config_model = GitHubInstallConfig

    def configured(self, settings: Settings) -> bool:
        return app.configured(settings)

    def install_url(self, settings: Settings, state: str) -> str:
        page = app.install_page(settings) or ""
        return f"{page}{'&' if '?' in page else '?'}{urlencode({'state': state})}"

    def callback_config(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {
            "installation_id": params.get("installation_id", ""),
            "state": params.get("state", ""),
            "setup_action": params.get("setup_action", ""),
            "code": params.get("code", ""),
        }

    def validate(self, settings: Settings, config: dict[str, Any]) -> None:
        code = config.get("code")
        if app.user_verification(settings) is not None and (not isinstance(code, str) or not code):
            raise ValidationError(NO_CODE, attr="code")

    async def _verify_person(self, settings: Settings, installation_id: str, code: str) -> None:
        """PostHog's check that the person installing can see the installation: without it, anyone
        with an installation id of the app could attach another organization's repositories."""
        try:
            token = await app.user_token(settings, code)
            if token is None:
                raise ValidationError(EXCHANGE_FAILED, attr="code")
            visible = await app.user_can_see(settings, token, installation_id)
        except UpstreamError:
            raise ProviderUnavailable(VERIFY_FAILED, code="installation_verify_failed") from None
        if not visible:
            raise ValidationError(ACCESS_DENIED, code="installation_access_denied", attr="installation_id")

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        installation_id = str(config["installation_id"])
        if app.user_verification(settings) is not None:
            await self._verify_person(settings, installation_id, str(config.get("code") or ""))
        try:
            installation = await app.get_installation(settings, installation_id)
            token = await app.create_installation_token(settings, installation_id)
        except UpstreamError as exc:
            raise _install_failed(exc) from None
        found = installation.get("account")
        account: dict[str, Any] = found if isinstance(found, dict) else {}
        stored: dict[str, Any] = {
            "installation_id": installation_id,
            **_token_config(token, time.time()),
            "account": {"type": account.get("type"), "name": account.get("login") or installation_id},
        }
        stored.setdefault("repository_selection", installation.get("repository_selection", "selected"))
        if isinstance(installation.get("permissions"), dict):
            stored["permissions"] = installation["permissions"]
        return BuiltCredentials(installation_id, stored, {"access_token": token["token"]})


class GitHubTokens:
    """A fresh installation token (the OAuth domain calls it single-flight, under the row lock)."""

    async def mint(
        self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]
    ) -> BuiltCredentials:
        installation_id = config.get("installation_id")
        if not installation_id:
            raise UpstreamError(app.KIND, Failure.AUTH, "no installation id", retryable=False)
        token = await app.create_installation_token(settings, str(installation_id))
        return BuiltCredentials(None, _token_config(token, time.time()), {"access_token": token["token"]})


class GitHubProxy:
    """For the proxy and credentials routes: the API base and the installation token as a bearer."""

    refreshable = True  # a 401 mints a new installation token (oauth.minting), then one retry
    user_host = False

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        return app.api_url(settings)

    def authorize(
        self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]
    ) -> None:
        request.headers["Authorization"] = f"Bearer {secrets.get('access_token', '')}"
        for name, value in app.API_HEADERS.items():
            request.headers.setdefault(name, value)


class GitHubHealth:
    """The cheapest call an installation token can make: one repository of the installation."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        async with app.outbound_client(
            timeout=settings.http_timeout,
            base_url=app.api_url(settings),
            headers={**app.API_HEADERS, "Authorization": f"Bearer {secrets.get('access_token', '')}"},
        ) as http:
            response = await app.send(
                http, app.KIND, "GET", "/installation/repositories", params={"per_page": 1}
            )
        error = app.classify(response)
        if error is not None:
            raise error
