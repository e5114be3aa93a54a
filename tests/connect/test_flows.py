"""Connections made through the connect page's OAuth links, over HTTP: success, the browser
binding, provider errors, popups, reconnects; and the same binding on API-started flows."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from patchbay.models import MembershipLevel
from patchbay.oauth.service import OTHER_BROWSER
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit.oauth import set_account, set_knob
from tests.conftest import SITE_URL
from tests.connect.helpers import heading, integrations, new_link, sessions
from tests.oauth.helpers import consent
from tests.support.factory import Factory, Tenant


async def provider_return(client: httpx.AsyncClient, link: str, query: str = "") -> str:
    """Start on the page, let the sandbox consent; the callback path the provider sends back."""
    started = await client.get(f"{link}/oauth/slack{query}")
    assert started.status_code == 302, started.text
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("ph_oauth_state=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    async with httpx.AsyncClient() as browser:
        provider = await browser.get(started.headers["location"])
    assert provider.status_code == 302, provider.text
    back = urlsplit(provider.headers["location"])
    assert back.path == "/integrations/slack/callback"
    return f"{back.path}?{back.query}"


def stranger(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser: the same server, none of the first one's cookies."""
    return httpx.AsyncClient(transport=client._transport, base_url=SITE_URL)


async def test_slack_through_the_page(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    member = await factory.member_of(tenant)
    link = await new_link(client, member, kinds=["slack"], next="https://app.example/done")
    callback = await provider_return(client, link)
    finished = await client.get(callback)
    assert finished.status_code == 302, finished.text
    target = urlsplit(finished.headers["location"])
    (made,) = await integrations(runtime)
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://app.example/done"
    assert parse_qs(target.query) == {"integration_id": [str(made.id)], "kind": ["slack"]}
    assert made.kind == "slack" and made.integration_id == "T0SANDBOX"
    assert made.created_by_id == member.user.id and made.project_id == tenant.project.id
    assert (await sessions(runtime))[0].used_at is not None
    assert (await client.get(link)).status_code == 410
    replay = await client.get(callback)
    assert replay.status_code == 400 and "already used" in replay.text
    assert len(await integrations(runtime)) == 1


async def test_a_callback_in_another_browser_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["slack"], next="/done")
    callback = await provider_return(client, link)
    async with stranger(client) as other:
        refused = await other.get(callback)
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("text/html")
        assert heading(refused.text) == "Finish where you started"
        # A cookie of the other browser's own does not help either.
        other.cookies.set("ph_oauth_state", "A" * 43)
        assert (await other.get(callback)).status_code == 400
    assert await integrations(runtime) == []
    assert (await sessions(runtime))[0].used_at is None
    # The browser that started it still can finish: the refusal did not spend the attempt.
    finished = await client.get(callback)
    assert finished.status_code == 302 and "integration_id=" in finished.headers["location"]


async def test_consent_denied_says_so_and_offers_to_try_again(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    set_knob(sandbox.state, "slack", "deny", True)
    link = await new_link(client, tenant, kinds=["slack"])
    callback = await provider_return(client, link)
    assert "error=access_denied" in callback
    page = await client.get(callback)
    assert page.status_code == 400
    assert heading(page.text) == "Slack was not connected"
    assert "You did not allow Slack to connect" in page.text
    assert f'href="{link}">Try again</a>' in page.text
    assert await integrations(runtime) == []
    assert (await client.get(link)).status_code == 200  # the link still works


async def test_a_bad_code_says_what_happened(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["slack"])
    callback = await provider_return(client, link, "?mode=popup")
    tampered = re.sub(r"code=[^&]+", "code=not-a-code", callback)
    page = await client.get(tampered)
    assert page.status_code == 400
    assert heading(page.text) == "Slack could not be connected"
    assert "slack OAuth failed" in page.text
    assert f'href="{link}?mode=popup">Try again</a>' in page.text
    assert await integrations(runtime) == []
    assert (await sessions(runtime))[0].used_at is None


async def test_a_popup_gets_a_page_that_posts_to_the_allowed_origin(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["slack"], next="/done", origin="https://app.example")
    callback = await provider_return(client, link, "?mode=popup")
    page = await client.get(callback)
    assert page.status_code == 200, page.text
    (made,) = await integrations(runtime)
    assert 'data-mode="popup"' in page.text and 'data-origin="https://app.example"' in page.text
    assert f'data-integration-id="{made.id}"' in page.text and 'data-kind="slack"' in page.text
    assert f'data-next="/done?integration_id={made.id}&amp;kind=slack"' in page.text
    assert '<script type="module" src="/connect/static/page.js">' in page.text
    assert (await client.get("/connect/static/page.js")).status_code == 200


async def test_without_an_origin_a_popup_posts_to_the_origin_of_next(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["slack"], next="https://APP.example/connected")
    page = await client.get(await provider_return(client, link, "?mode=popup"))
    assert 'data-origin="https://app.example"' in page.text


async def test_reconnect_keeps_the_integration_id(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    old = await factory.integration(
        tenant.project, "slack", "T0SANDBOX", config={"team": {"name": "old"}}, created_by=tenant.user
    )
    link = await new_link(client, tenant, integration_id=old.id, next="/done")
    page = await client.get(link)
    assert heading(page.text) == "Reconnect your account" and ">Slack<" in page.text
    finished = await client.get(await provider_return(client, link))
    assert finished.status_code == 302
    assert parse_qs(urlsplit(finished.headers["location"]).query)["integration_id"] == [str(old.id)]
    (row,) = await integrations(runtime)
    assert row.id == old.id and row.config["team"]["name"] == "Sandbox Workspace"
    assert runtime.keyring.decrypt_json(row.sensitive_config)["access_token"]


async def test_reconnect_with_another_account_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    old = await factory.integration(tenant.project, "slack", "T0OTHER", config={"team": {"name": "Other"}})
    set_account(sandbox.state, "slack", "slack", {"team_id": "T0SANDBOX", "team_name": "Sandbox Workspace"})
    link = await new_link(client, tenant, integration_id=old.id)
    page = await client.get(await provider_return(client, link))
    assert page.status_code == 400 and heading(page.text) == "That is a different account"
    assert "reconnects Other" in page.text and "Try again" in page.text
    (row,) = await integrations(runtime)
    assert row.id == old.id and row.integration_id == "T0OTHER" and row.config == {"team": {"name": "Other"}}
    assert (await sessions(runtime))[0].used_at is None


async def test_a_member_cannot_overwrite_through_a_page(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    """The page acts with its creator's rights: overwriting another's connection needs admin."""
    await factory.integration(tenant.project, "slack", "T0SANDBOX", config={"team": {"name": "kept"}})
    member = await factory.member_of(tenant, level=MembershipLevel.MEMBER)
    link = await new_link(client, member, kinds=["slack"])
    page = await client.get(await provider_return(client, link))
    assert page.status_code == 403
    assert "requires project admin access" in page.text
    (row,) = await integrations(runtime)
    assert row.config == {"team": {"name": "kept"}}
    assert (await sessions(runtime))[0].used_at is None  # the claim was given back


async def test_an_api_started_flow_is_bound_to_its_browser(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "slack")
    async with stranger(client) as other:
        refused = await other.get(given.callback_path)
    assert refused.status_code == 400
    assert refused.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": OTHER_BROWSER,
        "attr": "state",
    }
    assert await integrations(runtime) == []
    finished = await client.get(given.callback_path)
    assert finished.status_code == 302 and "integration_id=" in finished.headers["location"]


async def test_two_tabs_of_one_browser_both_finish(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    first_link = await new_link(client, tenant, kinds=["slack"])
    second_link = await new_link(client, tenant, kinds=["slack"])
    first = await provider_return(client, first_link)
    second = await provider_return(client, second_link)
    assert (await client.get(first)).status_code == 302
    set_account(sandbox.state, "slack", "slack", {"team_id": "T0SECOND", "team_name": "Second"})
    assert (await client.get(second)).status_code == 302
    assert sorted(i.integration_id or "" for i in await integrations(runtime)) == ["T0SANDBOX", "T0SECOND"]
