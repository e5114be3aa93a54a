"""GitHub as a GitHub App, end to end against the sandbox's GitHub: the install redirect, the app's
JWT (verified by the simulator with the public key), installation tokens minted and minted again on
demand (once, however many callers), `github_repos`, and every refusal in PostHog's words."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.oauth.refresh import ensure_fresh_token
from patchbay.oauth.service import OTHER_BROWSER
from patchbay.providers.github import simulator as github_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, consent, row, rows, secrets_of, start
from tests.support.factory import Factory, Tenant


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


def mints(sandbox: SandboxServer) -> int:
    return sandbox.state.count_calls("github", "/access_tokens", method="POST")


async def state_for(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await start(client, tenant, "github")
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["state"][0]


async def create(client: httpx.AsyncClient, tenant: Tenant, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": "github", "config": config}, headers=tenant.headers
    )


async def test_install_redirect_creates_the_installation(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    github_sim.next_install(sandbox.state, "acme", ["web", "api"])
    started = await start(client, tenant, "github")
    assert (
        started.headers["location"]
        .split("?")[0]
        .endswith(f"/github/apps/{github_sim.SLUG}/installations/new")
    )

    pk = await connect(client, tenant, "github")
    stored = await row(runtime, pk)
    installation_id = stored.integration_id
    assert installation_id is not None and installation_id.isdigit()
    assert stored.config["account"] == {"type": "Organization", "name": "acme"}
    assert stored.config["installation_id"] == installation_id
    assert stored.config["repository_selection"] == "selected"
    assert 3500 <= stored.config["expires_in"] <= 3600
    assert set(secrets_of(runtime, stored)) == {"access_token"}
    assert secrets_of(runtime, stored)["access_token"].startswith("ghs")

    body = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    assert body["display_name"] == "acme"
    assert body["installation_status"] == "connected"
    assert "ghs" not in str(body)
    assert mints(sandbox) == 1


async def test_the_install_is_bound_to_the_browser_that_started_it(
    client: httpx.AsyncClient, app: Any, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    """As for a consent page: GitHub sending another browser back with the state creates nothing,
    and two installs started side by side in one browser (two tabs) both finish."""
    github_sim.next_install(sandbox.state, "acme", ["web"])
    given = await consent(client, tenant, "github")
    github_sim.next_install(sandbox.state, "globex", ["api"])
    second_tab = await consent(client, tenant, "github")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=client.base_url) as other:
        other.cookies.set("ph_oauth_state", "A" * 43)
        refused = await other.get(given.callback_path)
    assert refused.status_code == 400 and refused.json()["detail"] == OTHER_BROWSER
    assert await rows(runtime) == []
    assert (await client.get(given.callback_path)).status_code == 302
    assert (await client.get(second_tab.callback_path)).status_code == 302
    assert len(await rows(runtime)) == 2


async def test_github_repos_is_searchable_and_paged(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    github_sim.next_install(sandbox.state, "acme", ["web", "api", "docs", "website"])
    github_sim.set_page_size(sandbox.state, 2)
    pk = await connect(client, tenant, "github")
    url = f"{tenant.base}/integrations/{pk}/github_repos/"

    listed = await client.get(url, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    names = [r["full_name"] for r in listed.json()["repositories"]]
    assert names == ["acme/web", "acme/api", "acme/docs", "acme/website"]
    assert listed.json()["has_more"] is False
    assert set(listed.json()["repositories"][0]) == {"id", "name", "full_name"}
    assert sandbox.state.count_calls("github", "/installation/repositories") == 2  # two pages

    assert listed.json()["total"] == 4
    found = (await client.get(url, params={"search": "WEB"}, headers=tenant.headers)).json()
    assert [r["name"] for r in found["repositories"]] == ["web", "website"] and found["total"] == 2
    page = (await client.get(url, params={"limit": 1, "offset": 1}, headers=tenant.headers)).json()
    assert [r["name"] for r in page["repositories"]] == ["api"] and page["has_more"] is True
    assert sandbox.state.count_calls("github", "/installation/repositories") == 2  # served from the cache

    bad = await client.get(url, params={"limit": 0}, headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["attr"] == "limit"


async def test_token_is_minted_again_after_half_life_once_for_concurrent_callers(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "github")
    first = secrets_of(runtime, await row(runtime, pk))["access_token"]
    stored = await row(runtime, pk)
    aged = {**stored.config, "refreshed_at": int(time.time()) - 2000, "expires_in": 3600}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=aged))

    stale = await row(runtime, pk)
    results = await asyncio.gather(*(ensure_fresh_token(runtime, stale) for _ in range(5)))
    assert {r.access_token for r in results} != {first}
    assert len({r.access_token for r in results}) == 1
    assert mints(sandbox) == 2  # one at install, one for the five callers
    renewed = await row(runtime, pk)
    assert secrets_of(runtime, renewed)["access_token"] == results[0].access_token
    assert renewed.config["refreshed_at"] >= int(time.time()) - 5
    assert renewed.config["account"]["name"] == "sandbox-org"  # the rest of the config is kept

    # Fresh now: nothing more is minted.
    await ensure_fresh_token(runtime, renewed)
    assert mints(sandbox) == 2


async def test_uninstalled_app_asks_to_reconnect_and_marks_the_row(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "github")
    stored = await row(runtime, pk)
    assert stored.integration_id is not None
    github_sim.uninstall(sandbox.state, stored.integration_id)
    sandbox.state.revoke_account("github")
    async with runtime.db.transaction() as session:
        expired = {**stored.config, "refreshed_at": int(time.time()) - 4000}
        await session.execute(update(Integration).where(Integration.id == pk).values(config=expired))

    listed = await client.get(f"{tenant.base}/integrations/{pk}/github_repos/", headers=tenant.headers)
    assert listed.status_code == 400
    assert "could not be refreshed. Please reconnect" in listed.json()["detail"]
    after = await row(runtime, pk)
    assert after.errors == "TOKEN_REFRESH_FAILED"
    body = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    assert body["installation_status"] == "unavailable"


@pytest.mark.parametrize(
    ("config", "detail", "attr"),
    [
        ({}, "An installation_id must be provided", "installation_id"),
        ({"installation_id": "12x"}, "Invalid installation_id", "installation_id"),
        ({"installation_id": "123"}, "A state token must be provided", "state"),
        ({"installation_id": "123", "state": "token=nope"}, "An OAuth code must be provided", "code"),
        ({"installation_id": "123", "state": "token=nope", "code": "c"}, None, "state"),
    ],
)
async def test_create_refusals(
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxServer,
    config: dict[str, Any],
    detail: str | None,
    attr: str,
) -> None:
    response = await create(client, tenant, config)
    assert response.status_code == 400, response.text
    assert response.json()["attr"] == attr
    if detail is not None:
        assert response.json()["detail"] == detail
    assert mints(sandbox) == 0


async def test_unknown_installation_and_single_use_state(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    state = await state_for(client, tenant)
    code = github_sim.user_code(sandbox.state, ["999999999"])
    unknown = await create(client, tenant, {"installation_id": "999999999", "state": state, "code": code})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "installation_access_denied"  # nobody can see it
    installation_id = github_sim.add_installation(sandbox.state, "beta")
    code = github_sim.user_code(sandbox.state, [installation_id])
    reused = await create(client, tenant, {"installation_id": installation_id, "state": state, "code": code})
    assert reused.status_code == 400 and reused.json()["attr"] == "state"  # the state was spent

    fresh = await create(
        client,
        tenant,
        {
            "installation_id": installation_id,
            "state": await state_for(client, tenant),
            "code": github_sim.user_code(sandbox.state, [installation_id]),
        },
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["display_name"] == "beta"


async def test_not_configured_and_refused_app_credentials(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, make_settings: Any, sandbox: SandboxServer
) -> None:
    bare = await start(client, tenant, "github")
    assert bare.status_code == 302
    # An app key GitHub does not know: its JWTs are refused.
    other = github_sim._keypair.__wrapped__()[0]
    settings = make_settings(kind_overrides={"PATCHBAY_GITHUB_APP_PRIVATE_KEY": other})
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, runtime)), base_url="http://testserver"
        ) as second:
            state = await state_for(second, tenant)
            installation_id = github_sim.add_installation(sandbox.state, "gamma")
            code = github_sim.user_code(sandbox.state, [installation_id])
            refused = await create(
                second, tenant, {"installation_id": installation_id, "state": state, "code": code}
            )
            assert refused.status_code == 502
            assert "refused the app's credentials" in refused.json()["detail"]
    finally:
        await runtime.close()

    # Without the app's OAuth client, no person check (PostHog's older flow): the app's own answer.
    unverified = make_settings(kind_overrides={"PATCHBAY_GITHUB_CLIENT_ID": ""})
    runtime = build_runtime(unverified)
    try:
        transport = httpx.ASGITransport(app=create_app(unverified, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fourth:
            unknown = await create(
                fourth, tenant, {"installation_id": "999999999", "state": await state_for(fourth, tenant)}
            )
            assert unknown.json() == {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": "Invalid installation_id",
                "attr": "installation_id",
            }
            installation_id = github_sim.add_installation(sandbox.state, "epsilon")
            made = await create(
                fourth, tenant, {"installation_id": installation_id, "state": await state_for(fourth, tenant)}
            )
            assert made.status_code == 201, made.text
    finally:
        await runtime.close()

    unconfigured = make_settings(kind_overrides={"PATCHBAY_GITHUB_APP_ID": ""})
    runtime = build_runtime(unconfigured)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(unconfigured, runtime)), base_url="http://testserver"
        ) as third:
            response = await start(third, tenant, "github")
            assert response.status_code == 400
            assert response.json()["detail"].startswith("Kind not configured.")
    finally:
        await runtime.close()


@pytest.mark.parametrize(("fault", "status"), [("500", 502), ("timeout", 503), ("429", 429)])
async def test_provider_down_while_installing(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, fault: str, status: int
) -> None:
    sandbox.state.timeout_seconds = 3.0
    state = await state_for(client, tenant)
    installation_id = github_sim.add_installation(sandbox.state, "delta")
    code = github_sim.user_code(sandbox.state, [installation_id])
    sandbox.state.inject("github", fault, count=5, path_contains="/app/installations")
    response = await create(
        client, tenant, {"installation_id": installation_id, "state": state, "code": code}
    )
    assert response.status_code == status, response.text
    assert set(response.json()) == {"type", "code", "detail", "attr"}


async def test_the_person_installing_must_see_the_installation(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    """Without this check, anyone with an installation id of the app could attach another
    organization's repositories to their project."""
    theirs = github_sim.add_installation(sandbox.state, "victim-org")
    mine = github_sim.add_installation(sandbox.state, "my-org")
    code = github_sim.user_code(sandbox.state, [mine])
    denied = await create(
        client, tenant, {"installation_id": theirs, "state": await state_for(client, tenant), "code": code}
    )
    assert denied.status_code == 400
    assert denied.json() == {
        "type": "validation_error",
        "code": "installation_access_denied",
        "detail": "You do not have access to this GitHub installation",
        "attr": "installation_id",
    }
    assert mints(sandbox) == 0
    spent = await create(
        client, tenant, {"installation_id": mine, "state": await state_for(client, tenant), "code": code}
    )
    assert spent.status_code == 400 and spent.json()["attr"] == "code"  # codes are single-use
    assert spent.json()["detail"].startswith("Failed to exchange the OAuth code")


async def test_github_repos_refuses_other_kinds(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    twilio = await factory.integration(tenant.project, "twilio")
    response = await client.get(
        f"{tenant.base}/integrations/{twilio.id}/github_repos/", headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "github_repos endpoint is only supported for GitHub integrations"
