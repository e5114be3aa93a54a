"""Screenshots of Patchbay's pages for the docs, taken in a real browser: a throwaway SQLite
Patchbay with every provider wired to the sandbox, driven by Playwright on Debian's Chromium.

    scripts/screenshots            # writes docs/connect/*.png and docs/console/*.png
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from playwright.async_api import Browser, async_playwright
from sqlalchemy import update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.factory import Factory  # noqa: E402
from tests.support.live_server import ThreadedServer  # noqa: E402

from patchbay.app import create_app  # noqa: E402
from patchbay.config import Settings  # noqa: E402
from patchbay.migrations import upgrade  # noqa: E402
from patchbay.models import ConnectSession  # noqa: E402
from patchbay.runtime import build_runtime  # noqa: E402
from patchbay.providers.twilio import simulator as twilio  # noqa: E402
from patchbay.sandbox.server import SandboxServer, free_port  # noqa: E402

from console_screenshots import take_console  # noqa: E402  (scripts/, beside this file)

CHROMIUM = "/usr/bin/chromium"
OUT = ROOT / "docs" / "connect"
CONSOLE_OUT = ROOT / "docs" / "console"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}
KINDS = ["slack", "hubspot", "linear", "google-sheets", "twilio", "databricks", "email"]


async def shoot(
    browser: Browser, url: str, name: str, viewport: dict[str, int], twilio_sid: str = ""
) -> None:
    context = await browser.new_context(viewport=viewport, device_scale_factor=1)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(url)
    if twilio_sid:
        await page.click("summary:has-text('Twilio')")
        await page.fill("#twilio-account_sid", twilio_sid)
        await page.fill("#twilio-auth_token", "not-the-token")
        await page.click("button:has-text('Connect Twilio')")
        await page.locator("#twilio-auth_token-error").wait_for()
    await page.screenshot(path=str(OUT / name), full_page=True)
    await context.close()
    print(f"wrote {(OUT / name).relative_to(ROOT)}")


def main() -> None:
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="patchbay-shots-") as tmp, SandboxServer() as sandbox:
        port = free_port()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{Path(tmp) / 'shots.db'}",
            site_url=f"http://127.0.0.1:{port}",
            encryption_keys=Fernet.generate_key().decode(),
            rate_limit="off",
            refresher=False,
            email_provider="maildev",  # the console's email page checks records without SES
            webhook_allow_private=True,  # the console's webhook goes to a loopback receiver
            webhook_retry_schedule="1,1",
            log_level="WARNING",
            kind_overrides=sandbox.env(),
        )
        upgrade(settings.database_url)
        asyncio.run(take_all(settings, sandbox))


async def take_all(settings: Settings, sandbox: SandboxServer) -> None:
    origin = settings.site_origin
    runtime = build_runtime(settings)
    tenant = await Factory(runtime).tenant()
    server = ThreadedServer(create_app(settings), port=int(origin.rsplit(":", 1)[1])).start()
    sid = twilio.add_account(sandbox.state, auth_token="the-token")
    try:
        async with (
            httpx.AsyncClient(base_url=origin, headers=tenant.headers) as api,
            async_playwright() as playwright,
        ):

            async def link() -> str:
                created = await api.post(f"{tenant.base}/connect_sessions/", json={"kinds": KINDS})
                created.raise_for_status()
                return str(created.json()["url"])

            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            await shoot(browser, await link(), "page-desktop.png", DESKTOP)
            await shoot(browser, await link(), "page-phone.png", PHONE)
            await shoot(browser, await link(), "form-error-desktop.png", DESKTOP, sid)
            await shoot(browser, await link(), "form-error-phone.png", PHONE, sid)
            used = await link()
            async with runtime.db.transaction() as session:
                await session.execute(update(ConnectSession).values(used_at=ConnectSession.created_at))
            await shoot(browser, used, "used-link-phone.png", PHONE)
            await take_console(browser, origin, runtime, sandbox, CONSOLE_OUT, DESKTOP, PHONE)
            await browser.close()
    finally:
        server.stop()
        await runtime.close()


if __name__ == "__main__":
    main()
