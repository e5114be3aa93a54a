"""GET {P}/integrations/{id}/channels/ against the Slack simulator (issue 4, PostHog §5.7 and §B)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.providers.slack import simulator_api as slack_api
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.provider_resources.helpers import INSTALLER, browser_context, slack_channels, slack_integration
from tests.support.factory import Factory, Tenant

MASKED = "PRIVATE_CHANNEL_WITHOUT_ACCESS"


def seed(sandbox: SandboxServer) -> dict[str, str]:
    st = sandbox.state
    ids = {}
    for name in ["c_public", "a_public", "b_public"]:
        ids[name] = slack_api.add_channel(st, name, members=[INSTALLER, "U0OTHER"])["id"]
    ids["d_private"] = slack_api.add_channel(st, "d_private", is_private=True, members=[INSTALLER])["id"]
    # A private channel the installing user is not in: Slack never lists it for them.
    ids["z_hidden"] = slack_api.add_channel(st, "z_hidden", is_private=True, members=["U0OTHER"])["id"]
    ids["archived"] = slack_api.add_channel(st, "archived", is_archived=True)["id"]
    return ids


async def get(client: httpx.AsyncClient, tenant: Tenant, pk: int, **params: Any) -> httpx.Response:
    return await client.get(
        f"{tenant.base}/integrations/{pk}/channels/", headers=tenant.headers, params=params
    )


async def test_creator_sees_private_channels_sorted_by_name(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    row, token = await slack_integration(factory, sandbox, tenant)
    response = await get(client, tenant, row.id)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["channels", "lastRefreshedAt", "has_more"]
    assert [c["name"] for c in body["channels"]] == ["a_public", "b_public", "c_public", "d_private"]
    private = body["channels"][-1]
    assert private["is_private"] is True and private["is_private_without_access"] is False
    assert set(private) == {
        "id",
        "name",
        "is_private",
        "is_member",
        "is_ext_shared",
        "is_private_without_access",
    }
    assert body["has_more"] is False and body["lastRefreshedAt"]
    assert token not in response.text


async def test_non_creator_gets_private_channels_masked_and_left_out(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    response = await get(client, colleague, row.id)
    assert response.status_code == 200
    channels = response.json()["channels"]
    assert [c["name"] for c in channels] == ["a_public", "b_public", "c_public"]
    assert ids["d_private"] not in {c["id"] for c in channels}
    assert MASKED not in response.text


async def test_pagination_across_three_slack_pages(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    for i in range(7):
        slack_api.add_channel(sandbox.state, f"chan-{i}", members=[INSTALLER])
    slack_api.set_page_size(sandbox.state, 3)
    row, _ = await slack_integration(factory, sandbox, tenant)
    response = await get(client, tenant, row.id)
    assert [c["name"] for c in response.json()["channels"]] == [f"chan-{i}" for i in range(7)]
    assert sandbox.state.count_calls("slack", "conversations.list") == 3
    assert sandbox.state.count_calls("slack", "users.conversations") == 1


async def test_pagination_stops_after_ten_pages(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    for i in range(12):
        slack_api.add_channel(sandbox.state, f"chan-{i:02d}", members=[INSTALLER])
    slack_api.set_page_size(sandbox.state, 1)
    row, _ = await slack_integration(factory, sandbox, tenant)
    response = await get(client, tenant, row.id, limit=200)
    assert len(response.json()["channels"]) == 10
    assert sandbox.state.count_calls("slack", "conversations.list") == 10


async def test_limit_offset_has_more(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    for i in range(5):
        slack_api.add_channel(sandbox.state, f"chan-{i}", members=[INSTALLER])
    row, _ = await slack_integration(factory, sandbox, tenant)
    first = (await get(client, tenant, row.id, limit=2)).json()
    assert [c["name"] for c in first["channels"]] == ["chan-0", "chan-1"] and first["has_more"] is True
    last = (await get(client, tenant, row.id, limit=2, offset=4)).json()
    assert [c["name"] for c in last["channels"]] == ["chan-4"] and last["has_more"] is False
    assert last["lastRefreshedAt"] == first["lastRefreshedAt"]  # served from the cache
    assert sandbox.state.count_calls("slack", "conversations.list") == 1


@pytest.mark.parametrize(
    ("params", "attr", "code"),
    [
        ({"limit": 0}, "limit", "min_value"),
        ({"limit": 201}, "limit", "max_value"),
        ({"limit": "x"}, "limit", "invalid_input"),
        ({"offset": -1}, "offset", "min_value"),
        ({"force_refresh": "maybe"}, "force_refresh", "invalid_input"),
    ],
)
async def test_invalid_parameters_are_400_with_attr(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    params: dict[str, object],
    attr: str,
    code: str,
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant)
    response = await get(client, tenant, row.id, **params)
    assert response.status_code == 400
    assert response.json()["attr"] == attr and response.json()["code"] == code
    assert sandbox.state.count_calls("slack") == 0


async def test_search_is_fuzzy_on_name_and_substring_on_id(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    for name in ["engineering", "marketing", "eng-alerts", "random"]:
        slack_api.add_channel(sandbox.state, name, members=[INSTALLER])
    special = slack_api.add_channel(sandbox.state, "zzz", channel_id="CSPECIAL42", members=[INSTALLER])
    row, _ = await slack_integration(factory, sandbox, tenant)
    names = [c["name"] for c in (await get(client, tenant, row.id, search="enginering")).json()["channels"]]
    assert names[0] == "engineering" and "random" not in names and "marketing" not in names
    by_id = (await get(client, tenant, row.id, search="special4")).json()["channels"]
    assert [c["id"] for c in by_id] == [special["id"]]
    assert (await get(client, tenant, row.id, search="qqqqqq")).json()["channels"] == []


async def test_search_never_reveals_masked_channels(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    for search in ["PRIVATE_CHANNEL", "d_private", ids["d_private"]]:
        assert (await get(client, colleague, row.id, search=search)).json()["channels"] == []


async def test_channel_id_served_from_cached_list_without_slack(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    await get(client, tenant, row.id)
    response = await get(client, tenant, row.id, channel_id=ids["a_public"])
    assert response.json() == {
        "channels": [
            {
                "id": ids["a_public"], "name": "a_public", "is_private": False, "is_member": True,
                "is_ext_shared": False, "is_private_without_access": False,
            }
        ]
    }  # fmt: skip
    assert sandbox.state.count_calls("slack", "conversations.info") == 0


async def test_channel_id_lookup_hit_and_miss(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    hit = (await get(client, tenant, row.id, channel_id=ids["d_private"])).json()
    assert hit["channels"][0]["name"] == "d_private" and hit["channels"][0]["is_private"] is True
    assert sandbox.state.count_calls("slack", "conversations.info") == 1
    assert sandbox.state.count_calls("slack", "conversations.members") == 1
    assert (await get(client, tenant, row.id, channel_id="CDOESNOTEXIST")).json() == {"channels": []}
    # The installing user is not a member: the channel is not offered.
    not_member = slack_api.add_channel(sandbox.state, "elsewhere", members=["U0OTHER"])
    assert (await get(client, tenant, row.id, channel_id=not_member["id"])).json() == {"channels": []}


async def test_channel_id_lookup_masks_private_for_non_creator(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    channel = (await get(client, colleague, row.id, channel_id=ids["d_private"])).json()["channels"][0]
    assert channel["name"] == MASKED and channel["is_private_without_access"] is True
    public = (await get(client, colleague, row.id, channel_id=ids["a_public"])).json()["channels"][0]
    assert public["name"] == "a_public" and public["is_private_without_access"] is False


async def test_channel_id_lookup_budget_answers_429(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant)
    for i in range(30):
        assert (await get(client, tenant, row.id, channel_id=f"CMISSING{i}")).status_code == 200
    response = await get(client, tenant, row.id, channel_id="CMISSING31")
    assert response.status_code == 429
    body = response.json()
    assert (
        body["type"] == "throttled_error"
        and body["detail"] == "Too many Slack channel lookups. Try again in a minute."
    )
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert sandbox.state.count_calls("slack", "conversations.info") == 30
    # The budget belongs to the integration: another one still has its own.
    other, _ = await slack_integration(factory, sandbox, await factory.tenant())
    assert other.id != row.id


async def test_force_refresh_bypasses_cache_and_found_channel_joins_cache(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    first = (await get(client, tenant, row.id)).json()
    new = slack_api.add_channel(sandbox.state, "b2_new", members=[INSTALLER])
    assert "b2_new" not in [c["name"] for c in (await get(client, tenant, row.id)).json()["channels"]]
    # A lookup finds it and merges it into the cached list.
    await get(client, tenant, row.id, channel_id=new["id"])
    cached = (await get(client, tenant, row.id)).json()
    assert "b2_new" in [c["name"] for c in cached["channels"]]
    assert cached["lastRefreshedAt"] == first["lastRefreshedAt"]
    # An API key reads through the cache whatever force_refresh says (PostHog's newest rule)...
    keyed = (await get(client, tenant, row.id, force_refresh="true")).json()
    assert keyed["lastRefreshedAt"] == first["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack", "conversations.list") == 1
    # ...a signed-in browser refreshes.
    async with browser_context(runtime, tenant) as ctx:
        refreshed = await slack_channels(
            ctx, row.id, search="", limit=50, offset=0, channel_id="", force_refresh=True
        )
    assert refreshed["lastRefreshedAt"] != first["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack", "conversations.list") == 2


async def test_forced_lookup_of_vanished_channel_drops_it_from_cache(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    await get(client, tenant, row.id)
    sandbox.state.provider_data("slack")["workspaces"][slack_api.DEFAULT_TEAM_ID]["channels"].pop(
        ids["b_public"]
    )
    # With a key the lookup answers from the cached list; a browser's forced lookup asks Slack.
    keyed = await get(client, tenant, row.id, channel_id=ids["b_public"], force_refresh="true")
    assert [c["name"] for c in keyed.json()["channels"]] == ["b_public"]
    async with browser_context(runtime, tenant) as ctx:
        gone = await slack_channels(
            ctx, row.id, search="", limit=50, offset=0, channel_id=ids["b_public"], force_refresh=True
        )
    assert gone == {"channels": []}
    names = [c["name"] for c in (await get(client, tenant, row.id)).json()["channels"]]
    assert "b_public" not in names and "a_public" in names


async def test_non_slack_integration_is_400(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    row = await factory.integration(
        tenant.project, "twilio", "AC1", {"account_sid": "AC1"}, {"auth_token": "t"}
    )
    response = await get(client, tenant, row.id)
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error", "code": "invalid_input",
        "detail": "channels endpoint is only supported for Slack integrations", "attr": None,
    }  # fmt: skip


async def test_missing_installing_user_is_400(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant, authed_user=None)
    response = await get(client, tenant, row.id)
    assert response.status_code == 400
    assert response.json()["detail"] == "SlackIntegration: Missing authed_user_id in integration config"
    assert sandbox.state.count_calls("slack") == 0


async def test_other_projects_integration_is_404(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    other = await factory.tenant()
    row, _ = await slack_integration(factory, sandbox, other)
    response = await get(client, tenant, row.id)
    assert response.status_code == 404
    assert sandbox.state.count_calls("slack") == 0


async def test_needs_integration_read_scope(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant)
    narrow = await factory.key(tenant.user, ["feature_flag:read"])
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/channels/", headers={"Authorization": f"Bearer {narrow}"}
    )
    assert response.status_code == 403 and "integration:read" in response.json()["detail"]
    reader = await factory.key(tenant.user, ["integration:read"])
    ok = await client.get(
        f"{tenant.base}/integrations/{row.id}/channels", headers={"Authorization": f"Bearer {reader}"}
    )
    assert ok.status_code == 200


async def test_slack_sdk_wire_format_reaches_the_simulator(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    """slack_sdk POSTs form bodies with 1/0 booleans; the private listing names the installing user."""
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    await get(client, tenant, row.id)
    calls = [c for c in sandbox.state.calls if c.provider == "slack"]
    assert {c.method for c in calls} == {"POST"}
    # exclude_archived=1 reached the simulator: the archived channel is not listed.
    names = [c["name"] for c in (await get(client, tenant, row.id)).json()["channels"]]
    assert "archived" not in names and "z_hidden" not in names


async def test_environments_alias_and_current_project(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    expected = (await get(client, tenant, row.id)).json()
    for base in (f"/api/environments/{tenant.project.id}", "/api/projects/@current"):
        response = await client.get(f"{base}/integrations/{row.id}/channels", headers=tenant.headers)
        assert response.status_code == 200 and response.json() == expected
