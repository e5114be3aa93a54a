"""GET {P}/integrations/{id}/users/: Slack workspace members (PostHog §5.8)."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.provider_resources.service import cache_key
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.provider_resources.helpers import TEAM, browser_context, slack_integration, slack_users
from tests.support.factory import Factory, Tenant


def seed(sandbox: SandboxServer) -> dict[str, str]:
    st = sandbox.state
    return {
        "zoe": slack_api.add_user(st, "zoe", display_name="Zoe")["id"],
        "adam": slack_api.add_user(st, "adam", real_name="Adam Smith")["id"],
        "bea": slack_api.add_user(st, "bea", display_name="bea.b")["id"],
        "bot": slack_api.add_user(st, "robot", is_bot=True)["id"],
        "gone": slack_api.add_user(st, "gone", deleted=True)["id"],
        "guest": slack_api.add_user(st, "guest", is_restricted=True)["id"],
        "single": slack_api.add_user(st, "single", is_ultra_restricted=True)["id"],
        "stranger": slack_api.add_user(st, "stranger", member_team_id="TOTHER")["id"],
        "slackbot": slack_api.add_user(st, "slackbot", user_id="USLACKBOT")["id"],
    }


async def get(client: httpx.AsyncClient, tenant: Tenant, pk: int, **params: Any) -> httpx.Response:
    return await client.get(f"{tenant.base}/integrations/{pk}/users/", headers=tenant.headers, params=params)


async def test_lists_dmable_humans_sorted_by_display_name(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, token = await slack_integration(factory, sandbox, tenant)
    response = await get(client, tenant, row.id)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["users", "lastRefreshedAt", "has_more"]
    assert body["users"] == [
        {"id": ids["adam"], "name": "adam", "display_name": "Adam Smith"},
        {"id": ids["bea"], "name": "bea", "display_name": "bea.b"},
        {"id": ids["zoe"], "name": "zoe", "display_name": "Zoe"},
    ]
    assert body["has_more"] is False
    assert slack_api.requests(sandbox.state, "users.list") == [{"method": "users.list", "limit": "1000"}]
    assert token not in response.text


async def test_pages_search_and_cache(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    slack_api.set_page_size(sandbox.state, 2)
    row, _ = await slack_integration(factory, sandbox, tenant)
    first = (await get(client, tenant, row.id, limit=1)).json()
    assert [u["name"] for u in first["users"]] == ["adam"] and first["has_more"] is True
    assert sandbox.state.count_calls("slack", "users.list") == 5  # 9 members, 2 a page
    found = (await get(client, tenant, row.id, search="smiht")).json()["users"]
    assert [u["name"] for u in found] == ["adam"]
    assert sandbox.state.count_calls("slack", "users.list") == 5


async def test_user_id_lookup_cached_list_then_users_info(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    # Nothing cached yet: users.info answers, and the answer (hit or miss) is cached per id.
    assert (await get(client, tenant, row.id, user_id=ids["zoe"])).json() == {
        "users": [{"id": ids["zoe"], "name": "zoe", "display_name": "Zoe"}]
    }
    assert (await get(client, tenant, row.id, user_id=ids["bot"])).json() == {"users": []}
    assert (await get(client, tenant, row.id, user_id="UNOBODY")).json() == {"users": []}
    assert (await get(client, tenant, row.id, user_id="UNOBODY")).json() == {"users": []}
    assert sandbox.state.count_calls("slack", "users.info") == 3
    assert slack_api.requests(sandbox.state, "users.info")[0] == {"method": "users.info", "user": ids["zoe"]}


async def test_user_lookup_budget(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant)
    for i in range(30):
        assert (await get(client, tenant, row.id, user_id=f"UX{i}")).status_code == 200
    response = await get(client, tenant, row.id, user_id="UX31")
    assert response.status_code == 429
    assert response.json()["detail"] == "Too many Slack member lookups. Try again in a minute."


async def test_missing_scope_is_actionable_400(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant, scopes=["channels:read", "chat:write"])
    response = await get(client, tenant, row.id)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "slack_integration_inactive"
    assert "missing the permission" in body["detail"] and "list workspace members" in body["detail"]
    assert sandbox.state.count_calls("slack", "users.list") == 1  # permission errors are not retried


async def test_force_refresh_floor_of_thirty_seconds(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    first = (await get(client, tenant, row.id)).json()
    # A signed-in browser may force a refresh, but not within 30 s of the last one.
    async with browser_context(runtime, tenant) as ctx:
        again = await slack_users(ctx, row.id, search="", limit=50, offset=0, user_id="", force_refresh=True)
    assert again["lastRefreshedAt"] == first["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack", "users.list") == 1


async def test_force_refresh_is_for_browsers_only(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    first = (await get(client, tenant, row.id)).json()
    # Older than the 30 s floor: a browser's force_refresh goes to Slack, an API key's does not.
    key = cache_key(row.id, "slack", "users")
    stale = {**(await runtime.cache.get(key)), "lastRefreshedAt": "2000-01-01T00:00:00+00:00"}
    await runtime.cache.set(key, stale, 3600)
    keyed = (await get(client, tenant, row.id, force_refresh="true")).json()
    assert keyed["lastRefreshedAt"] == stale["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack", "users.list") == 1
    async with browser_context(runtime, tenant) as ctx:
        forced = await slack_users(ctx, row.id, search="", limit=50, offset=0, user_id="", force_refresh=True)
    assert forced["lastRefreshedAt"] != stale["lastRefreshedAt"] != first["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack", "users.list") == 2


async def test_non_slack_is_400(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    row = await factory.integration(tenant.project, "linear", "org", {}, {"access_token": "x"})
    response = await get(client, tenant, row.id)
    assert response.status_code == 400
    assert response.json()["detail"] == "users endpoint is only supported for Slack integrations"


async def test_team_filter_uses_integration_team(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    assert row.integration_id == TEAM
    listed = {u["id"] for u in (await get(client, tenant, row.id)).json()["users"]}
    assert ids["stranger"] not in listed and ids["slackbot"] not in listed
