"""Where the browser goes after the callback: `next` is a relative path or a URL on the site's own or
an allowed origin (nothing else, however it is spelled), and the redirect keeps next's own query."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import consent, start
from tests.support.factory import Tenant

REFUSAL = {
    "type": "validation_error",
    "code": "invalid_input",
    "detail": "next must be a relative path starting with / or a URL on an allowed origin",
    "attr": "next",
}


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example/x",
        "relative/without/slash",
        "/\\evil.example",
        "/ok\r\nLocation: https://evil.example",
        "/tab\there",
        "https:evil.example",
        "https:///path",
        "ftp://testserver/x",
        "https://testserver.evil.example/x",
        "http://user@testserver/x",
        "http://testserver@evil.example/x",
        "data:text/html,hi",
        "http://[::1",
        "http://testserver:99999/x",
    ],
)
async def test_foreign_or_malformed_next_is_refused(
    next_url: str, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    response = await start(client, tenant, "slack", next_url)
    assert response.status_code == 400, (next_url, response.text)
    assert response.json() == REFUSAL


async def test_a_nul_in_next_is_refused_before_the_next_rule(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    """Every input string is checked for NULs first (kit.validation), in DRF's words."""
    response = await start(client, tenant, "slack", "/nul\x00x")
    assert response.status_code == 400, response.text
    assert response.json() == {
        "type": "validation_error", "code": "null_characters_not_allowed",
        "detail": "Null characters are not allowed.", "attr": "next",
    }  # fmt: skip


@pytest.mark.parametrize("next_url", ["/a b", "http://testserver/x?y=1", "HTTP://TESTSERVER/up"])
async def test_paths_and_the_sites_own_origin_are_accepted(
    next_url: str, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    response = await start(client, tenant, "slack", next_url)
    assert response.status_code == 302, (next_url, response.text)


async def test_the_redirect_keeps_nexts_query_and_adds_the_result(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "slack", next_url="/settings?tab=&x=1&integration_id=stale")
    finished = await client.get(given.callback_path)
    assert finished.status_code == 302, finished.text
    target = urlsplit(finished.headers["location"])
    assert target.path == "/settings"
    query = target.query.split("&")
    assert query[:2] == ["tab=", "x=1"] and len(query) == 3
    assert query[2].startswith("integration_id=") and query[2] != "integration_id=stale"
