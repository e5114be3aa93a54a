"""The connect page over HTTP (no browser): what it shows, its headers, expired and used links,
the credential forms with their CSRF protection, and OAuth through the page."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from patchbay.app import create_app
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.conftest import SITE_URL
from tests.connect.helpers import (
    csrf_token,
    expire_all,
    field_error,
    heading,
    integrations,
    new_link,
    sessions,
)
from tests.support.factory import Factory, Tenant


async def test_the_page_lists_each_kind_with_its_name(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["slack", "twilio", "databricks"], next="/done")
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert heading(html) == "Connect an account"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f'href="{link}/oauth/slack"' in html and ">Slack<" in html
    assert ">Twilio<" in html and 'name="account_sid"' in html and 'name="auth_token"' in html
    assert 'type="password"' in html and 'for="twilio-account_sid"' in html
    assert ">Databricks<" in html and 'name="server_hostname"' in html
    assert ">Linear<" not in html  # not among the session's kinds
    # The token stays on the page: no referrer leaves it, nothing caches it, nothing frames it.
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("pb_connect_csrf=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/connect" in cookie and "Secure" not in cookie  # the test site is http


async def test_assets_come_from_the_package(client: httpx.AsyncClient) -> None:
    css = await client.get("/connect/static/connect.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text
    script = await client.get("/connect/connect.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "export function connect" in script.text and "patchbay:connected" in script.text
    assert (await client.get("/connect/static/nothing.js")).status_code == 404


async def test_unknown_expired_and_used_links(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    unknown = await client.get("/connect/pcs_not-a-real-token")
    assert unknown.status_code == 404 and heading(unknown.text) == "This link is not valid"
    link = await new_link(client, tenant)
    await expire_all(runtime)
    expired = await client.get(link)
    assert expired.status_code == 410 and heading(expired.text) == "This link has expired"
    started = await client.get(f"{link}/oauth/slack")
    assert started.status_code == 410
    posted = await client.post(f"{link}/kinds/twilio", data={"account_sid": "x", "auth_token": "y"})
    assert posted.status_code == 410
    assert await integrations(runtime) == []


async def _twilio(sandbox: SandboxServer) -> str:
    return twilio.add_account(sandbox.state, auth_token="right-token")


async def test_twilio_form_errors_then_connects(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    sid = await _twilio(sandbox)
    member = await factory.member_of(tenant)
    link = await new_link(client, member, kinds=["twilio"], next="https://app.example/back?tab=1")
    page = await client.get(link)
    token = csrf_token(page.text)
    empty = await client.post(f"{link}/kinds/twilio", data={"csrf_token": token})
    assert empty.status_code == 400
    assert field_error(empty.text, "twilio", "account_sid") == "This field is required."
    assert field_error(empty.text, "twilio", "auth_token") == "This field is required."
    wrong = await client.post(
        f"{link}/kinds/twilio", data={"csrf_token": token, "account_sid": sid, "auth_token": "wrong-token"}
    )
    assert wrong.status_code == 400
    assert field_error(wrong.text, "twilio", "auth_token") == "Failed to get account info"
    assert f'value="{sid}"' in wrong.text and "wrong-token" not in wrong.text  # secrets are not echoed
    assert 'aria-invalid="true"' in wrong.text
    assert await integrations(runtime) == []
    assert (await sessions(runtime))[0].used_at is None
    right = await client.post(
        f"{link}/kinds/twilio", data={"csrf_token": token, "account_sid": sid, "auth_token": "right-token"}
    )
    assert right.status_code == 303, right.text
    target = urlsplit(right.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://app.example/back"
    query = parse_qs(target.query)
    (made,) = await integrations(runtime)
    assert query == {"tab": ["1"], "integration_id": [str(made.id)], "kind": ["twilio"]}
    assert made.kind == "twilio" and made.integration_id == sid and made.project_id == tenant.project.id
    assert made.created_by_id == member.user.id  # the session's creator
    assert runtime.keyring.decrypt_json(made.sensitive_config) == {"auth_token": "right-token"}
    # Spent: the page and the form answer 410, nothing more is created.
    assert (await client.get(link)).status_code == 410
    again = await client.post(
        f"{link}/kinds/twilio", data={"csrf_token": token, "account_sid": sid, "auth_token": "right-token"}
    )
    assert again.status_code == 410 and heading(again.text) == "This link was already used"
    assert len(await integrations(runtime)) == 1


async def test_forms_need_the_csrf_cookie_and_token(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sid = await _twilio(sandbox)
    link = await new_link(client, tenant, kinds=["twilio"])
    other_link = await new_link(client, tenant, kinds=["twilio"])
    token = csrf_token((await client.get(link)).text)
    other_token = csrf_token((await client.get(other_link)).text)
    fields = {"account_sid": sid, "auth_token": "right-token"}
    for data in ({**fields}, {**fields, "csrf_token": "0" * 64}, {**fields, "csrf_token": other_token}):
        refused = await client.post(f"{link}/kinds/twilio", data=data)
        assert refused.status_code == 403, refused.text
        assert heading(refused.text) == "This form could not be sent"
    # The right token from a browser without the cookie (a cross-site post carries none).
    async with httpx.AsyncClient(transport=client._transport, base_url=SITE_URL) as stranger:
        refused = await stranger.post(f"{link}/kinds/twilio", data={**fields, "csrf_token": token})
        assert refused.status_code == 403
    assert await integrations(runtime) == []
    assert all(s.used_at is None for s in await sessions(runtime))
    ok = await client.post(f"{link}/kinds/twilio", data={**fields, "csrf_token": token})
    assert ok.status_code == 303


async def test_a_kind_outside_the_session_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sid = await _twilio(sandbox)
    link = await new_link(client, tenant, kinds=["slack", "databricks"])
    token = csrf_token((await client.get(link)).text)
    started = await client.get(f"{link}/oauth/linear")
    assert started.status_code == 404 and heading(started.text) == "Not offered here"
    posted = await client.post(
        f"{link}/kinds/twilio", data={"csrf_token": token, "account_sid": sid, "auth_token": "right-token"}
    )
    assert posted.status_code == 404 and "does not offer Twilio" in posted.text
    assert await integrations(runtime) == []


async def test_the_token_stays_out_of_the_logs(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    link = await new_link(client, tenant)
    token = link.rsplit("/", 1)[1]
    await client.get(link)
    await client.get(f"{link}/oauth/slack")
    await client.post(f"{link}/kinds/twilio", data={"account_sid": "x"})
    logged = [str(record.__dict__) for record in caplog.records]
    assert sum("/connect/pcs_[redacted]" in line for line in logged) == 3
    assert not any(token in line for line in logged)


async def test_cookies_are_secure_on_an_https_site(
    make_settings: Any, runtime: Runtime, sandbox: SandboxServer
) -> None:
    settings = make_settings(site_url="https://patchbay.example", allowed_redirect_origins="https://app.example")
    other = build_runtime(settings)
    try:
        tenant = await Factory(other).tenant()
        transport = httpx.ASGITransport(app=create_app(settings, other))
        async with httpx.AsyncClient(transport=transport, base_url="https://patchbay.example") as c:
            link = await new_link(c, tenant, kinds=["slack"])
            page = await c.get(link)
            started = await c.get(f"{link}/oauth/slack")
        for response in (page, started):
            cookie = response.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie
    finally:
        await other.close()
