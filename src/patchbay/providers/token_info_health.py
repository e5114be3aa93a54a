"""The verification call of an OAuth kind that has no `HealthCheck` of its own: its catalogue
entry's token-info call (Google's userinfo, ClickUp's user, Linear's viewer query, HubSpot's
access-token info, Meta's /me ...), the same call that named the account when it connected.

Any 4xx but 429 from it means the provider no longer accepts the token (Meta answers 400 for a
dead one, others 401 or 403), so it is classified AUTH: a permanent failure in the health
taxonomy of `kit.provider_errors`. 5xx, 429 and transport failures stay transient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, send
from patchbay.providers.catalog import OAuthProvider

if TYPE_CHECKING:
    from patchbay.config import Settings


class TokenInfoHealth:
    """`HealthCheck` from catalogue data (`token_info_url`, `token_info_graphql`)."""

    def __init__(self, entry: OAuthProvider) -> None:
        self.entry = entry

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        kind, entry = self.entry.kind, self.entry
        token = secrets.get("access_token")
        if not isinstance(token, str) or not token or entry.token_info_url is None:
            raise UpstreamError(kind, Failure.AUTH, "no access token")
        url = entry.resolve(settings, entry.token_info_url).replace(":access_token", token)
        headers = {"Authorization": f"Bearer {token}"}
        async with outbound_client(timeout=float(settings.http_timeout)) as client:
            if entry.token_info_graphql:
                response = await send(
                    client, kind, "POST", url, json={"query": entry.token_info_graphql}, headers=headers
                )
            else:
                response = await send(client, kind, "GET", url, headers=headers)
        failure = classify_status(kind, response)
        if failure is not None:
            status = response.status_code
            if 400 <= status < 500 and status != 429:
                raise UpstreamError(kind, Failure.AUTH, f"http {status}")
            raise failure
        body = json_body(kind, response)
        if entry.token_info_graphql and isinstance(body, dict) and body.get("errors") and not body.get("data"):
            # GraphQL APIs may refuse a token with 200 and an `errors` list.
            raise UpstreamError(kind, Failure.AUTH, "graphql errors")
