"""The connect page in a real browser: Debian's Chromium driven by Playwright, against a real
Patchbay served on loopback and the sandbox providers. The product's page (the popup's opener)
is served on a second loopback origin, the allowed redirect origin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, Route

from patchbay.app import create_app
from patchbay.providers.google_cloud.simulator import add_service_account
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer, free_port
from tests.connect.helpers import expire_all, integrations, sessions
from tests.support.browser import TIMEOUT_MS
from tests.support.factory import Tenant
from tests.support.live_server import ThreadedServer, product_app


@dataclass
class Live:
    patchbay: str
    product: str
    sandbox: str

    async def link(self, tenant: Tenant, **body: Any) -> str:
        async with httpx.AsyncClient(base_url=self.patchbay) as client:
            created = await client.post(f"{tenant.base}/connect_sessions/", json=body, headers=tenant.headers)
        assert created.status_code == 201, created.text
        url = str(created.json()["url"])
        assert url.startswith(self.patchbay + "/connect/pcs_")
        return url


@pytest.fixture
async def live(make_settings: Any, runtime: Runtime, sandbox: SandboxServer) -> AsyncIterator[Live]:
    port = free_port()
    patchbay = f"http://127.0.0.1:{port}"
    product = ThreadedServer(product_app(patchbay), lifespan="off").start()
    settings = make_settings(site_url=patchbay, allowed_redirect_origins=product.origin, refresher=False)
    server = ThreadedServer(create_app(settings), port=port).start()
    try:
        yield Live(patchbay, product.origin, sandbox.base_url)
    finally:
        server.stop()
        product.stop()


async def new_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    return await context.new_page()


async def test_connect_slack_from_the_page_with_the_keyboard(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime
) -> None:
    url = await live.link(tenant, kinds=["slack"], next=f"{live.product}/done")
    page = await new_page(chromium)
    response = await page.goto(url)
    assert response is not None and response.status == 200
    assert await page.locator("h1").inner_text() == "Connect an account"
    await page.keyboard.press("Tab")  # the skip link
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.dataset.kind") == "slack"
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live.product}/done?**")
    query = parse_qs(urlsplit(page.url).query)
    (made,) = await integrations(runtime)
    assert query == {"integration_id": [str(made.id)], "kind": ["slack"]}
    assert made.integration_id == "T0SANDBOX" and made.created_by_id == tenant.user.id
    await page.context.close()


async def test_the_flow_finished_in_another_browser_is_refused(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime
) -> None:
    url = await live.link(tenant, kinds=["slack"], next=f"{live.product}/done")
    first = await new_page(chromium)
    caught: list[str] = []

    async def hold(route: Route) -> None:
        """Let the request through, keep where it redirects to, and stop the browser there."""
        answer = await route.fetch(max_redirects=0)
        caught.append(answer.headers["location"])
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "location"}
        await route.fulfill(status=200, headers=headers, content_type="text/html", body="<p>held</p>")

    # The first browser starts on the page (getting its binding cookie) and consents at the
    # provider; its way back to Patchbay is held, as if the link were sent on to someone else.
    await first.route("**/oauth/slack*", hold)
    await first.route("**/oauth/v2/authorize**", hold)
    await first.goto(url)
    await first.click("a[data-kind=slack]")
    await first.wait_for_load_state()
    assert len(caught) == 1 and caught[0].startswith(live.sandbox), caught
    assert [c["name"] for c in await first.context.cookies() if c["name"] == "ph_oauth_state"]
    await first.goto(caught[0])
    assert len(caught) == 2 and "/integrations/slack/callback?" in caught[1], caught
    second = await new_page(chromium)
    response = await second.goto(caught[1])
    assert response is not None and response.status == 400
    assert await second.locator("h1").inner_text() == "Finish where you started"
    assert await integrations(runtime) == []
    assert (await sessions(runtime))[0].used_at is None
    # The browser that started it can still finish.
    await first.goto(caught[1])
    await first.wait_for_url(f"{live.product}/done?**")
    assert len(await integrations(runtime)) == 1
    await first.context.close()
    await second.context.close()


async def test_twilio_form_shows_the_error_then_connects(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token="right-token")
    url = await live.link(tenant, kinds=["slack", "twilio"], next=f"{live.product}/done")
    page = await new_page(chromium)
    await page.goto(url)
    await page.click("summary:has-text('Twilio')")
    await page.fill("#twilio-account_sid", sid)
    await page.fill("#twilio-auth_token", "wrong-token")
    await page.click("button:has-text('Connect Twilio')")
    error = page.locator("#twilio-auth_token-error")
    await error.wait_for()
    assert "Failed to get account info" in await error.inner_text()
    assert await page.get_attribute("#twilio-auth_token", "aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.id") == "twilio-auth_token"
    assert await page.input_value("#twilio-account_sid") == sid
    assert await page.input_value("#twilio-auth_token") == ""
    assert await integrations(runtime) == []
    await page.fill("#twilio-auth_token", "right-token")
    await page.click("button:has-text('Connect Twilio')")
    await page.wait_for_url(f"{live.product}/done?**")
    (made,) = await integrations(runtime)
    assert parse_qs(urlsplit(page.url).query) == {"integration_id": [str(made.id)], "kind": ["twilio"]}
    assert made.integration_id == sid
    await page.context.close()


async def test_a_service_account_key_file_through_its_card(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    key = add_service_account(sandbox.state)
    url = await live.link(tenant, kinds=["google-pubsub", "aws-s3"], next=f"{live.product}/done")
    page = await new_page(chromium)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(url)
    await page.click("summary:has-text('Google Pub/Sub')")
    assert await page.is_visible("#google-pubsub-key") and not await page.is_visible("#aws-s3-name")
    # A key file pasted with a wrong key id: the error is shown under the text area, which is empty.
    await page.fill("#google-pubsub-key", json.dumps({**key, "private_key_id": "0" * 40}, indent=2))
    await page.click("button:has-text('Connect Google Pub/Sub')")
    error = page.locator("#google-pubsub-key-error")
    await error.wait_for()
    assert "Failed to authenticate with provided service account key" in await error.inner_text()
    assert await page.evaluate("document.activeElement.id") == "google-pubsub-key"
    assert await page.input_value("#google-pubsub-key") == ""
    assert "PRIVATE KEY" not in await page.content()
    await page.fill("#google-pubsub-key", json.dumps(key, indent=2))
    await page.click("button:has-text('Connect Google Pub/Sub')")
    await page.wait_for_url(f"{live.product}/done?**")
    (made,) = await integrations(runtime)
    assert parse_qs(urlsplit(page.url).query) == {"integration_id": [str(made.id)], "kind": ["google-pubsub"]}
    assert made.integration_id == key["client_email"]
    assert not [line for line in console if "Content Security Policy" in line], console
    await page.context.close()


async def test_the_popup_resolves_the_openers_promise(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime
) -> None:
    url = await live.link(tenant, kinds=["slack", "twilio"], origin=live.product)
    page = await new_page(chromium)
    await page.goto(f"{live.product}/opener?url={httpx.URL(url)}")
    async with page.expect_popup() as opened:
        await page.click("#connect")
    popup = await opened.value
    await popup.wait_for_load_state()
    assert "mode=popup" in popup.url
    await popup.click("a[data-kind=slack]")
    await page.wait_for_function("window.__result !== undefined")
    result = await page.evaluate("window.__result")
    (made,) = await integrations(runtime)
    assert result == {"integration_id": made.id, "kind": "slack"}
    assert await page.locator("#status").inner_text() == "connected"
    assert popup.is_closed()
    await page.context.close()


async def test_an_expired_link_says_so(
    chromium: Browser, live: Live, tenant: Tenant, runtime: Runtime
) -> None:
    url = await live.link(tenant)
    await expire_all(runtime)
    page = await new_page(chromium)
    response = await page.goto(url)
    assert response is not None and response.status == 410
    assert await page.locator("h1").inner_text() == "This link has expired"
    await page.context.close()


CONTRAST = """
(selectors) => {
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a] = rgb(getComputedStyle(node).backgroundColor);
      if (a === undefined || a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const luminance = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const out = {};
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))];
    out[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}
"""


async def test_readable_on_a_phone(
    chromium: Browser, live: Live, tenant: Tenant, sandbox: SandboxServer
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token="right-token")
    url = await live.link(tenant, kinds=["slack", "twilio"])
    context = await chromium.new_context(viewport={"width": 375, "height": 812})
    page = await context.new_page()
    await page.goto(url)
    await page.click("summary:has-text('Twilio')")
    await page.fill("#twilio-account_sid", sid)
    await page.fill("#twilio-auth_token", "wrong-token")
    await page.click("button:has-text('Connect Twilio')")
    await page.locator("#twilio-auth_token-error").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    selectors = [
        "h1",
        ".lead",
        ".kind-name",
        ".kind-action",
        "label",
        ".hint",
        ".error",
        ".alert",
        "button.button",
    ]
    ratios = await page.evaluate(CONTRAST, selectors)
    assert all(ratios[s] >= 4.5 for s in selectors), ratios
    await context.close()
