"""`serve --sandbox` demo data: a new user connects Slack, ClickUp, Linear and Twilio and sees
something on the other side."""

from __future__ import annotations

import httpx

from patchbay.providers.twilio import simulator as twilio
from patchbay.sandbox.server import SandboxServer, seed_demo_data
from tests.oauth.helpers import connect
from tests.support.factory import Tenant


async def test_demo_sandbox_has_something_to_list(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    seed_demo_data(sandbox.state)
    base = f"{tenant.base}/integrations"

    slack = await connect(client, tenant, "slack")
    channels = (await client.get(f"{base}/{slack}/channels/", headers=tenant.headers)).json()
    assert {"general", "random", "engineering", "founders"} <= {c["name"] for c in channels["channels"]}

    clickup = await connect(client, tenant, "clickup")
    workspaces = (await client.get(f"{base}/{clickup}/clickup_workspaces/", headers=tenant.headers)).json()[
        "workspaces"
    ]
    assert [w["name"] for w in workspaces] == ["Sandbox Workspace"]
    spaces = (
        await client.get(
            f"{base}/{clickup}/clickup_spaces/",
            params={"workspaceId": workspaces[0]["id"]},
            headers=tenant.headers,
        )
    ).json()
    lists = (
        await client.get(
            f"{base}/{clickup}/clickup_lists/",
            params={"spaceId": spaces["spaces"][0]["id"]},
            headers=tenant.headers,
        )
    ).json()
    assert [item["name"] for item in lists["lists"]] == ["Now", "Next", "Inbox"]

    linear = await connect(client, tenant, "linear")
    teams = (await client.get(f"{base}/{linear}/linear_teams/", headers=tenant.headers)).json()["teams"]
    assert {t["name"] for t in teams} == {"Engineering", "Design"}

    created = await client.post(
        f"{base}/",
        json={
            "kind": "twilio",
            "config": {"account_sid": twilio.DEMO_ACCOUNT_SID, "auth_token": twilio.DEMO_AUTH_TOKEN},
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201
    numbers = (
        await client.get(f"{base}/{created.json()['id']}/twilio_phone_numbers/", headers=tenant.headers)
    ).json()
    assert [n["phone_number"] for n in numbers["phone_numbers"]] == ["+14155550100", "+14155550101"]
