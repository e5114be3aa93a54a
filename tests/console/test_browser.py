"""The console in a real browser: Debian's Chromium driven by Playwright, against a real Patchbay
served on loopback (its delivery loop running) and the sandbox providers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from patchbay.app import create_app
from patchbay.models import TOKEN_REFRESH_FAILED, Integration, MembershipLevel
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer, free_port
from tests.console.helpers import PASSWORD, with_password
from tests.support.browser import TIMEOUT_MS
from tests.support.factory import Factory, Tenant
from tests.support.live_server import ThreadedServer
from tests.support.webhook_receiver import Receiver


@pytest.fixture
async def live(make_settings: Any, runtime: Runtime, sandbox: SandboxServer) -> AsyncIterator[str]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    settings = make_settings(
        site_url=origin, refresher=False, webhook_allow_private=True, webhook_retry_schedule="0,0,0"
    )
    server = ThreadedServer(create_app(settings), port=port).start()
    try:
        yield origin
    finally:
        server.stop()


async def signed_in_page(
    chromium: Browser, live: str, runtime: Runtime, tenant: Tenant, width: int = 1100
) -> Page:
    await with_password(runtime, tenant)
    context = await chromium.new_context(viewport={"width": width, "height": 850}, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(f"{live}/console")
    await page.fill("#email", tenant.user.email)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"{live}/console/projects/*/integrations")
    return page


async def test_sign_in_refuses_a_wrong_password_then_shows_integrations_with_health(
    chromium: Browser, live: str, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    good = await factory.integration(tenant.project, "twilio", "AC9", {"account_sid": "AC9"}, {}, tenant.user)
    failing = await factory.integration(tenant.project, "hubspot", "77", {}, {}, tenant.user)
    async with runtime.db.transaction() as session:
        verified = await session.get(Integration, good.id)
        row = await session.get(Integration, failing.id)
        assert row is not None and verified is not None
        verified.health_status = "healthy"  # as a create that proved the credentials leaves it
        row.errors = TOKEN_REFRESH_FAILED
        row.health_status = "refresh_failed"  # as the refresher leaves it (integration.health)
    await with_password(runtime, tenant)
    context = await chromium.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{live}/console/keys")
    assert page.url == f"{live}/console/sign-in"  # not signed in: off to the sign-in page
    await page.keyboard.press("Tab")  # the skip link, then the form, with the keyboard only
    await page.fill("#email", tenant.user.email)
    await page.fill("#password", "not the password at all")
    await page.press("#password", "Enter")
    assert await page.locator("#sign-in-error").inner_text() == "The email or password is not right."
    assert [c for c in await context.cookies() if c["name"] == "pb_console"] == []
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_url(f"{live}/console/projects/{tenant.project.id}/integrations")
    (cookie,) = [c for c in await context.cookies() if c["name"] == "pb_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert await page.locator(f"tr[data-integration='{good.id}'] .health").inner_text() == "Healthy"
    assert await page.locator(f"tr[data-integration='{failing.id}'] .health").inner_text() == "Refresh failed"
    await context.close()


async def test_connect_twilio_through_the_console(
    chromium: Browser, live: str, runtime: Runtime, sandbox: SandboxServer, tenant: Tenant
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token="console-token")
    page = await signed_in_page(chromium, live, runtime, tenant)
    await page.select_option("#connect-kind", "twilio")
    await page.click("button:has-text('Connect')")
    await page.wait_for_url(f"{live}/connect/pcs_*")
    await page.fill("#twilio-account_sid", sid)
    await page.fill("#twilio-auth_token", "console-token")
    await page.click("button:has-text('Connect Twilio')")
    await page.wait_for_url(f"{live}/console/projects/{tenant.project.id}/integrations?**")
    assert "Connected." in await page.locator(".notice").inner_text()
    row = page.locator("#integrations tbody tr", has_text=sid)
    assert await row.locator(".health").inner_text() == "Healthy"
    # The owner rotates the token at Twilio: "Check now" finds out and the row says so.
    sandbox.state.provider_data("twilio")["accounts"][sid]["auth_token"] = "rotated-at-twilio"
    await row.locator("button:has-text('Check now')").click()
    await page.wait_for_url(f"{live}/console/projects/{tenant.project.id}/integrations?notice=checked-*")
    assert "Reconnect needed" in await page.locator(".notice").inner_text()
    assert await row.locator(".health").inner_text() == "Reconnect needed"
    await row.locator("a[href$='/activity']").click()
    assert await page.locator("#activity tbody tr").first.locator("td").nth(1).inner_text() == "check"
    await page.context.close()


async def test_revoke_a_key_and_the_api_refuses_it_at_once(
    chromium: Browser, live: str, runtime: Runtime, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=live, headers=tenant.headers) as api:
        assert (await api.get(f"{tenant.base}/integrations/")).status_code == 200
        page = await signed_in_page(chromium, live, runtime, tenant)
        await page.click("a:has-text('API keys')")
        await page.click("#keys button:has-text('Revoke')")
        await page.wait_for_url(f"{live}/console/keys?notice=revoked")
        assert await page.locator("#keys tbody tr[data-key]").count() == 0
        assert (await api.get(f"{tenant.base}/integrations/")).status_code == 401
        # A new key: its value once, then only its mask.
        await page.fill("#label", "browser")
        await page.check("input[value='integration:read']")
        await page.click("button:has-text('Create key')")
        value = await page.locator("#key-value").inner_text()
        fresh = await api.get(f"{tenant.base}/integrations/", headers={"Authorization": f"Bearer {value}"})
        assert fresh.status_code == 200
        await page.goto(f"{live}/console/keys")
        assert value not in await page.content()
    await page.context.close()


async def test_create_a_webhook_and_see_its_deliveries(
    chromium: Browser, live: str, runtime: Runtime, tenant: Tenant
) -> None:
    receiver = Receiver().start()
    try:
        page = await signed_in_page(chromium, live, runtime, tenant)
        await page.click("a:has-text('Webhooks')")
        await page.fill("#url", receiver.url)
        await page.check("input[value='ping']")
        await page.click("button:has-text('Add endpoint')")
        secret = await page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        await page.click("a:has-text('See its deliveries')")
        await page.click("button:has-text('Send a ping')")
        receiver.wait_for(1)
        row = page.locator("#deliveries tbody tr[data-delivery]")
        for _ in range(40):  # the delivery loop records the answer just after sending
            await page.reload()
            if await row.count() and "succeeded" in await row.first.inner_text():
                break
            await page.wait_for_timeout(250)
        text = await row.first.inner_text()
        assert "ping" in text and "succeeded" in text and "200" in text
    finally:
        receiver.stop()
    await page.context.close()


async def test_a_member_is_not_offered_what_they_may_not_do_and_is_refused_anyway(
    chromium: Browser, live: str, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    theirs = await factory.integration(
        tenant.project, "twilio", "AC7", {"account_sid": "AC7"}, {}, tenant.user
    )
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    page = await signed_in_page(chromium, live, runtime, member, width=390)  # on a phone, too
    row = page.locator(f"tr[data-integration='{theirs.id}']")
    assert await row.count() == 1 and await row.locator("button:has-text('Delete')").count() == 0
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    # Posting anyway, from the signed-in browser, with a valid token: the API's rule refuses.
    refused = await page.request.post(
        f"{live}/console/projects/{tenant.project.id}/integrations/{theirs.id}/delete",
        form={"csrf_token": token},
        max_redirects=0,
    )
    assert refused.status == 403
    await page.goto(f"{live}/console/projects/{tenant.project.id}/webhooks")
    assert await page.locator("#url").count() == 0  # no endpoint form for a member
    webhook = await page.request.post(
        f"{live}/console/projects/{tenant.project.id}/webhooks",
        form={"csrf_token": token, "url": "http://127.0.0.1:9/x"},
        max_redirects=0,
    )
    assert webhook.status == 403
    # Another user's key: not theirs to see or revoke.
    await page.goto(f"{live}/console/keys")
    assert await page.locator("#keys tbody tr[data-key]").count() == 1
    async with runtime.db.session() as session:
        from patchbay.account.repository import AccountRepository

        (owner_key,) = await AccountRepository(session).keys_of(tenant.user.id)
    other = await page.request.post(
        f"{live}/console/keys/{owner_key.id}/revoke", form={"csrf_token": token}, max_redirects=0
    )
    assert other.status == 404
    await page.context.close()


async def test_a_form_without_its_csrf_token_is_refused_and_sign_out_ends_the_session(
    chromium: Browser, live: str, runtime: Runtime, tenant: Tenant
) -> None:
    page = await signed_in_page(chromium, live, runtime, tenant)
    await page.goto(f"{live}/console/keys")
    for path in ("/console/keys", f"/console/projects/{tenant.project.id}/webhooks", "/console/sign-out"):
        refused = await page.request.post(f"{live}{path}", form={"label": "x"}, max_redirects=0)
        assert refused.status == 403, path
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "pb_console"]
    await page.click("button:has-text('Sign out')")
    await page.wait_for_url(f"{live}/console/sign-in?notice=signed-out")
    assert "You are signed out." in await page.locator(".notice").inner_text()
    await page.goto(f"{live}/console/keys")
    assert page.url == f"{live}/console/sign-in"
    async with httpx.AsyncClient(base_url=live) as replay:  # the old cookie opens nothing now
        answer = await replay.get("/console/keys", cookies={"pb_console": cookie["value"]})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    await page.context.close()
