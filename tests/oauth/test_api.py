"""The `ph_oauth_state` cookie that `…/integrations/authorize/` sets: HttpOnly and SameSite=Lax
always, Secure when the site is served over https."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.app import create_app
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import start
from tests.support.factory import Factory
from tests.support.pg import truncate_all


def cookie_attributes(response: httpx.Response) -> set[str]:
    header = response.headers["set-cookie"]
    assert header.startswith("ph_oauth_state=")
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if part.strip().lower().startswith("samesite")
    }


async def test_state_cookie_is_http_only_and_lax(
    make_settings: Any, sandbox: SandboxServer, database_url: str
) -> None:
    for site, secure in (("http://testserver", False), ("https://patchbay.example.com", True)):
        runtime = build_runtime(make_settings(site_url=site))
        try:
            tenant = await Factory(runtime).tenant()
            transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
            async with httpx.AsyncClient(transport=transport, base_url=site) as client:
                response = await start(client, tenant, "linear")
            assert response.status_code == 302, response.text
            attributes = cookie_attributes(response)
            assert {"httponly", "samesite=lax", "path", "max-age"} <= attributes
            assert ("secure" in attributes) is secure, (site, attributes)
        finally:
            await runtime.close()
            await truncate_all(database_url)
