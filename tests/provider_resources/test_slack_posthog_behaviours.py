"""PostHog's Slack helper behaviours (reference/posthog-integration-behaviours.md §B, items 17-24),
asserted through the API against the Slack simulator. PostHog's newest page size is 1000."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.providers.slack import simulator_api as slack_api
from patchbay.sandbox.server import SandboxServer
from tests.provider_resources.helpers import INSTALLER, slack_integration
from tests.support.factory import Factory, Tenant

MASKED = "PRIVATE_CHANNEL_WITHOUT_ACCESS"


def seed(sandbox: SandboxServer) -> dict[str, str]:
    st = sandbox.state
    return {
        "a": slack_api.add_channel(st, "a_public_channel", members=[INSTALLER])["id"],
        "b": slack_api.add_channel(st, "b_public_channel", members=[INSTALLER])["id"],
        "c": slack_api.add_channel(st, "c_public_channel", members=[INSTALLER])["id"],
        "d": slack_api.add_channel(
            st, "d_private_channel", is_private=True, members=[INSTALLER, *[f"U{i}" for i in range(9)]]
        )["id"],
    }


async def channels(client: httpx.AsyncClient, tenant: Tenant, pk: int, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        f"{tenant.base}/integrations/{pk}/channels/", headers=tenant.headers, params=params
    )
    assert response.status_code == 200, response.text
    return list(response.json()["channels"])


async def test_17_listing_calls_and_arguments(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    await channels(client, tenant, row.id)
    public = slack_api.requests(sandbox.state, "conversations.list")
    private = slack_api.requests(sandbox.state, "users.conversations")
    assert public == [
        {"method": "conversations.list", "exclude_archived": "1", "types": "public_channel", "limit": "1000"}
    ]
    assert private == [
        {
            "method": "users.conversations", "exclude_archived": "1", "types": "private_channel",
            "limit": "1000", "user": INSTALLER,
        }
    ]  # fmt: skip


async def test_18_creator_sees_private_channel_last_with_real_name(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    listed = await channels(client, tenant, row.id)
    assert [c["name"] for c in listed] == [
        "a_public_channel", "b_public_channel", "c_public_channel", "d_private_channel",
    ]  # fmt: skip
    assert listed[-1]["is_private"] is True and listed[-1]["is_private_without_access"] is False


async def test_19_masked_private_channel_sorts_first_and_is_left_out_of_the_page(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: object
) -> None:
    """PostHog's helper masks the name (so it sorts first); the newest API then filters it out."""
    from patchbay.provider_resources.service import cache_key

    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    listed = await channels(client, colleague, row.id)
    assert [c["name"] for c in listed] == ["a_public_channel", "b_public_channel", "c_public_channel"]
    cached = await runtime.cache.get(cache_key(row.id, "slack", "channels", "masked"))  # type: ignore[attr-defined]
    assert [c["name"] for c in cached["channels"]][0] == MASKED
    assert (
        cached["channels"][0]["id"] == ids["d"] and cached["channels"][0]["is_private_without_access"] is True
    )


async def test_20_empty_page_stops_after_one_call_per_type(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await slack_integration(factory, sandbox, tenant)
    assert await channels(client, tenant, row.id) == []
    assert sandbox.state.count_calls("slack", "conversations.list") == 1
    assert sandbox.state.count_calls("slack", "users.conversations") == 1


async def test_21_private_channel_lookup_with_access(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    found = await channels(client, tenant, row.id, channel_id=ids["d"])
    assert found == [
        {
            "id": ids["d"], "name": "d_private_channel", "is_private": True, "is_member": True,
            "is_ext_shared": False, "is_private_without_access": False,
        }
    ]  # fmt: skip
    info = slack_api.requests(sandbox.state, "conversations.info")
    members = slack_api.requests(sandbox.state, "conversations.members")
    assert info == [{"method": "conversations.info", "channel": ids["d"], "include_num_members": "1"}]
    assert members == [{"method": "conversations.members", "channel": ids["d"], "limit": "11"}]


async def test_22_private_channel_lookup_without_access_is_masked(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    found = await channels(client, colleague, row.id, channel_id=ids["d"])
    assert found[0]["name"] == MASKED and found[0]["is_private"] is True
    assert found[0]["is_private_without_access"] is True


async def test_23_24_public_channel_lookup_is_never_masked(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = seed(sandbox)
    row, _ = await slack_integration(factory, sandbox, tenant)
    colleague = await factory.member_of(tenant)
    for caller in (tenant, colleague):
        found = await channels(client, caller, row.id, channel_id=ids["a"])
        assert found[0]["name"] == "a_public_channel" and found[0]["is_private_without_access"] is False
