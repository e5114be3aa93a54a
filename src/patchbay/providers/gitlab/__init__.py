"""GitLab: a project on gitlab.com or a self-managed instance, reached with a project (or personal)
access token. The hostname is typed in by the user, so every call goes through the address guard
(resolved once, every address checked, the checked one pinned: `kit.http.guarded_client`), over
https, never following a redirect — PostHog checks the same before each call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed
from patchbay.kit.errors import (
    APIError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.kit.http import guarded_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, Provider
from patchbay.providers.gitlab import simulator

KIND = "gitlab"
MISSING = "Hostname, project ID and project access token must be provided"
NOT_STRINGS = "Hostname and project access token must be strings, and the project ID a number or a path"
TOKEN_REFUSED = "GitLab refused the project access token. Check that it is valid and not expired."
PROJECT_NOT_FOUND = "GitLab project not found. Check the project ID and that the token can read the project."


class GitLabConfig(BaseModel):
    """`config` of a `gitlab` integration (PostHog's fields). Patchbay reads the project with the
    token; the token is stored encrypted and never returned."""

    hostname: str = Field(description="The instance's https URL.", examples=["https://gitlab.com"])
    project_id: int | str = Field(description="The project's numeric id or its path.", examples=[278964])
    project_access_token: str = Field(
        description="A project or personal access token (read_api). Never returned.",
        json_schema_extra={"writeOnly": True},
    )


def normalized_hostname(settings: Settings, hostname: str) -> tuple[str, str]:
    """(base URL without a trailing slash, host). https only (http when the operator allows it for
    local testing, PATCHBAY_GITLAB_ALLOW_HTTP); no credentials, query or fragment."""
    try:
        parts = urlsplit(hostname.strip())
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise ValidationError("Invalid GitLab hostname: not a URL", attr="hostname") from None
    allow_http = (settings.kind_setting(KIND, "ALLOW_HTTP") or "").lower() in {"1", "true", "yes"}
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise ValidationError("Invalid GitLab hostname: HTTPS is required", attr="hostname")
    if not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        raise ValidationError("Invalid GitLab hostname: not a URL", attr="hostname")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", parts.hostname


async def read_project(
    settings: Settings, base: str, host: str, project_id: str, token: str
) -> dict[str, Any]:
    """GET /api/v4/projects/{id} with the token; raises UpstreamError (or HostNotAllowed)."""
    async with await guarded_client(
        settings, host, timeout=settings.http_timeout, headers={"PRIVATE-TOKEN": token}
    ) as http:
        response = await send(http, KIND, "GET", f"{base}/api/v4/projects/{quote(project_id, safe='')}")
    error = classify_status(KIND, response)
    if error is not None:
        raise error
    return json_object(KIND, response, "id")


def _check_failed(error: UpstreamError) -> APIError:
    if error.failure is Failure.AUTH:
        return ValidationError(TOKEN_REFUSED, attr="project_access_token")
    if error.failure in (Failure.NOT_FOUND, Failure.PERMISSION):
        return ValidationError(PROJECT_NOT_FOUND, attr="project_id")
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited("GitLab", error.retry_after)
    if error.failure is Failure.UNREACHABLE:
        return ProviderUnreachable(
            "GitLab did not respond in time while we checked the project. Please try again."
        )
    return ProviderUnavailable(
        "GitLab answered with an error while we checked the project. Please try again later."
    )


class GitLabCredentials:
    config_model = GitLabConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        hostname, project_id, token = (
            config.get(k) for k in ("hostname", "project_id", "project_access_token")
        )
        if any(value is None or value == "" for value in (hostname, project_id, token)):
            raise ValidationError(MISSING)
        if (
            not isinstance(hostname, str)
            or not isinstance(token, str)
            or isinstance(project_id, bool)
            or not isinstance(project_id, int | str)
        ):
            raise ValidationError(NOT_STRINGS)
        base, host = normalized_hostname(settings, hostname)
        try:
            project = await read_project(settings, base, host, str(project_id), token)
        except HostNotAllowed:
            raise ValidationError(
                f"Invalid GitLab hostname: {host} resolves to an address that is not allowed", attr="hostname"
            ) from None
        except UpstreamError as exc:
            raise _check_failed(exc) from None
        return BuiltCredentials(
            integration_id=str(project.get("name_with_namespace") or project["id"]),
            config={
                "hostname": base,
                "path_with_namespace": project.get("path_with_namespace"),
                "project_id": project["id"],
            },
            sensitive_config={"access_token": token},
        )


class GitLabProxy:
    """The project's instance API (`{hostname}/api/v4`) and its token as GitLab's PRIVATE-TOKEN.
    The host is the user's: a proxy must reach it through `kit.http.guarded_client`."""

    user_host = True
    refreshable = False  # a project access token, nothing to refresh

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        return f"{str(config.get('hostname', '')).rstrip('/')}/api/v4"

    def authorize(
        self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]
    ) -> None:
        request.headers["PRIVATE-TOKEN"] = str(secrets.get("access_token", ""))


PROVIDER = registry.register(
    Provider(
        name="gitlab",
        display_name="GitLab",
        kinds=(KIND,),
        credential_kind=GitLabCredentials(),
        proxy=GitLabProxy(),
        simulators=(simulator,),
    )
)
