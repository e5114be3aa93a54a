"""The console's screenshots (docs/console/*.png), taken by scripts/screenshots.py: a tenant with
a password, integrations in several states, a webhook with deliveries, an email sender, a Vercel
installation and a proxy record, every page shot at desktop width and a few on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page
from tests.provider_resources.helpers import INSTALLER, slack_integration
from tests.support.factory import Factory, Tenant
from tests.support.webhook_receiver import Receiver
from tests.vercel.helpers import org_integration

from patchbay.console import sessions
from patchbay.models import TOKEN_REFRESH_FAILED, Integration, ProxyRecord
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio
from patchbay.providers.vercel import simulator as vercel_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer

PASSWORD = "screenshots only, not a secret"


async def _world(runtime: Runtime, sandbox: SandboxServer) -> Tenant:
    factory = Factory(runtime)
    tenant = await factory.tenant()
    await sessions.set_password(runtime, tenant.user.email, PASSWORD)
    sid = twilio.add_account(sandbox.state, auth_token="shots")
    verified = await factory.integration(
        tenant.project, "twilio", sid, {"account_sid": sid}, {"auth_token": "shots"}, tenant.user
    )
    for name in ("general", "alerts", "deploys"):
        slack_api.add_channel(sandbox.state, name, members=[INSTALLER])
    await slack_integration(factory, sandbox, tenant)
    hubspot = await factory.integration(tenant.project, "hubspot", "4242", {"hub_domain": "acme.example"}, {}, tenant.user)
    email = {"email": "hello@acme.example", "domain": "acme.example", "mail_from_subdomain": "feedback",
             "name": "Acme", "provider": "maildev", "verified": False}  # fmt: skip
    await factory.integration(tenant.project, "email", "hello@acme.example", email, {}, tenant.user)
    async with runtime.db.transaction() as session:
        row = await session.get(Integration, hubspot.id)
        assert row is not None
        row.errors = TOKEN_REFRESH_FAILED
        row.health_status = "refresh_failed"  # as the refresher leaves it (integration.health)
        twilio_row = await session.get(Integration, verified.id)
        assert twilio_row is not None
        twilio_row.health_status = "healthy"  # as a create that proved the credentials leaves it
        session.add(
            ProxyRecord(organization_id=tenant.organization.id, domain="e.acme.example",
                        target_cname="a1b2c3.proxy.patchbay.dev", status="waiting", created_by_id=tenant.user.id)
        )  # fmt: skip
    installation_id = vercel_sim.new_installation_id()
    token = vercel_sim.add_installation(sandbox.state, installation_id)
    await org_integration(
        runtime, tenant.organization, installation_id=installation_id, access_token=token, created_by=tenant.user
    )
    await factory.project(tenant.organization)  # a second project to map to
    return tenant


async def _signed_in(browser: Browser, origin: str, tenant: Tenant, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport, device_scale_factor=1)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{origin}/console/sign-in")
    await page.fill("#email", tenant.user.email)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"{origin}/console/projects/*/integrations")
    return page


async def take_console(
    browser: Browser, origin: str, runtime: Runtime, sandbox: SandboxServer, out: Path, desktop: Any, phone: Any
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tenant = await _world(runtime, sandbox)
    project = f"{origin}/console/projects/{tenant.project.id}"
    org = f"{origin}/console/organizations/{tenant.organization.id}"

    async def shot(page: Page, name: str) -> None:
        await page.screenshot(path=str(out / name), full_page=True)
        print(f"wrote docs/console/{name}")

    context = await browser.new_context(viewport=phone, device_scale_factor=1)
    page = await context.new_page()
    await page.goto(f"{origin}/console/sign-in")
    await shot(page, "sign-in-phone.png")
    await context.close()

    page = await _signed_in(browser, origin, tenant, phone)
    await shot(page, "integrations-phone.png")
    await page.context.close()

    receiver = Receiver().start()
    try:
        page = await _signed_in(browser, origin, tenant, desktop)
        twilio_row = page.locator("#integrations tbody tr", has_text="Twilio")
        for _ in range(2):  # two checks: a notice, a last activity, and a log with two rows
            await twilio_row.locator("button:has-text('Check now')").click()
            await page.wait_for_url(f"{project}/integrations?notice=checked-*")
        await shot(page, "integrations-desktop.png")
        await twilio_row.locator("a[href$='/activity']").click()
        await shot(page, "activity-desktop.png")
        await page.goto(f"{project}/integrations")
        await page.click("a:has-text('Channels')")
        await shot(page, "channels-desktop.png")
        await page.goto(f"{project}/webhooks")
        await page.fill("#url", receiver.url)
        await page.fill("#description", "Our backend")
        await page.click("button:has-text('Add endpoint')")
        await shot(page, "webhooks-desktop.png")
        await page.click("a:has-text('See its deliveries')")
        receiver.statuses = [500]
        await page.click("button:has-text('Send a ping')")
        receiver.wait_for(2)
        await page.wait_for_timeout(500)
        await page.reload()
        await shot(page, "deliveries-desktop.png")
        await page.goto(f"{project}/email-senders")
        await page.click("button:has-text('Check DNS records')")
        await shot(page, "email-desktop.png")
        await page.goto(f"{origin}/console/keys")
        await page.fill("#label", "CI deploys")
        await page.check("input[value='integration:read']")
        await page.check("input[value='webhook:read']")
        await page.click("button:has-text('Create key')")
        await shot(page, "keys-desktop.png")
        await page.goto(f"{origin}/console/organizations")
        await shot(page, "organizations-desktop.png")
        await page.goto(f"{org}/vercel")
        await shot(page, "vercel-desktop.png")
        await page.goto(f"{org}/proxy-records")
        await shot(page, "proxy-records-desktop.png")
        await page.context.close()
    finally:
        receiver.stop()
