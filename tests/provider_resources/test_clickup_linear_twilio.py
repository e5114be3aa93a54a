"""ClickUp workspaces/spaces/lists, Linear teams and Twilio numbers (PostHog §5.9-§5.10)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.models import Integration
from patchbay.providers.clickup import simulator_api as clickup_api
from patchbay.providers.linear import simulator_api as linear_api
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.sandbox.server import SandboxServer
from tests.provider_resources.helpers import clickup_integration, linear_integration
from tests.support.factory import Factory, Tenant


def seed_clickup(sandbox: SandboxServer) -> dict[str, str]:
    st = sandbox.state
    ws = clickup_api.add_workspace(st, "Acme", workspace_id="9001")
    other_ws = clickup_api.add_workspace(st, "Other", workspace_id="9002")
    eng = clickup_api.add_space(st, ws, "Engineering", space_id="790")
    clickup_api.add_space(st, ws, "Marketing", space_id="791")
    clickup_api.add_space(st, other_ws, "Elsewhere", space_id="800")
    q3 = clickup_api.add_folder(st, eng, "Q3 Roadmap", folder_id="457")
    q4 = clickup_api.add_folder(st, eng, "Q4", folder_id="458")
    clickup_api.add_list(st, eng, "Backlog", folder_id=q3, list_id="124")
    clickup_api.add_list(st, eng, "Sprint", folder_id=q3, list_id="125")
    clickup_api.add_list(st, eng, "Planning", folder_id=q4, list_id="126")
    clickup_api.add_list(st, eng, "Inbox", list_id="200")
    return {"ws": ws, "eng": eng}


async def test_clickup_workspaces_spaces_and_lists(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed_clickup(sandbox)
    row, token = await clickup_integration(factory, sandbox, tenant)
    base = f"{tenant.base}/integrations/{row.id}"
    workspaces = await client.get(f"{base}/clickup_workspaces/", headers=tenant.headers)
    assert workspaces.json() == {
        "workspaces": [{"id": "9001", "name": "Acme"}, {"id": "9002", "name": "Other"}]
    }
    spaces = await client.get(
        f"{base}/clickup_spaces/", headers=tenant.headers, params={"workspaceId": "9001"}
    )
    assert spaces.json() == {
        "spaces": [{"id": "790", "name": "Engineering"}, {"id": "791", "name": "Marketing"}]
    }
    lists = await client.get(f"{base}/clickup_lists", headers=tenant.headers, params={"spaceId": "790"})
    assert lists.json() == {
        "lists": [
            {"id": "124", "name": "Backlog", "folder_id": "457", "folder_name": "Q3 Roadmap"},
            {"id": "125", "name": "Sprint", "folder_id": "457", "folder_name": "Q3 Roadmap"},
            {"id": "126", "name": "Planning", "folder_id": "458", "folder_name": "Q4"},
            {"id": "200", "name": "Inbox"},
        ]
    }
    assert sandbox.state.count_calls("clickup", "/space/790/folder") == 1
    assert sandbox.state.count_calls("clickup", "/space/790/list") == 1
    for response in (workspaces, spaces, lists):
        assert token not in response.text


async def test_clickup_space_without_folders_or_lists(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed_clickup(sandbox)
    row, _ = await clickup_integration(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/clickup_lists/",
        headers=tenant.headers,
        params={"spaceId": "791"},
    )
    assert response.json() == {"lists": []}


@pytest.mark.parametrize(
    ("endpoint", "attr"), [("clickup_spaces", "workspaceId"), ("clickup_lists", "spaceId")]
)
async def test_clickup_missing_or_bad_parameter_is_400_with_attr(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    endpoint: str,
    attr: str,
) -> None:
    row, _ = await clickup_integration(factory, sandbox, tenant)
    url = f"{tenant.base}/integrations/{row.id}/{endpoint}/"
    missing = await client.get(url, headers=tenant.headers)
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": attr,
    }
    bad = await client.get(url, headers=tenant.headers, params={attr: "../team"})
    assert bad.status_code == 400 and bad.json()["attr"] == attr
    unknown = await client.get(url, headers=tenant.headers, params={attr: "424242"})
    assert unknown.status_code == 400 and unknown.json()["attr"] == attr
    assert sandbox.state.count_calls("clickup", "../") == 0


async def test_clickup_workspace_not_granted_is_permission_400_and_not_marked(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    seed_clickup(sandbox)
    token = clickup_api.issue_token(sandbox.state, team_ids=["9001"])
    row, _ = await clickup_integration(factory, sandbox, tenant, token=token)
    base = f"{tenant.base}/integrations/{row.id}"
    workspaces = await client.get(f"{base}/clickup_workspaces/", headers=tenant.headers)
    assert workspaces.json() == {"workspaces": [{"id": "9001", "name": "Acme"}]}
    response = await client.get(
        f"{base}/clickup_spaces/", headers=tenant.headers, params={"workspaceId": "9002"}
    )
    assert response.status_code == 400
    assert "does not have permission" in response.json()["detail"]
    assert (await client.get(f"{base}/", headers=tenant.headers)).json()["errors"] == ""


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("clickup_workspaces", {}),
        ("clickup_spaces", {"workspaceId": "1"}),
        ("clickup_lists", {"spaceId": "1"}),
    ],
)
async def test_clickup_wrong_kind_is_400_not_500(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, endpoint: str, params: dict[str, str]
) -> None:
    row = await factory.integration(
        tenant.project, "twilio", "AC1", {"account_sid": "AC1"}, {"auth_token": "t"}
    )
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/{endpoint}/", headers=tenant.headers, params=params
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error", "code": "invalid_input",
        "detail": f"{endpoint} endpoint is only supported for ClickUp integrations", "attr": "kind",
    }  # fmt: skip


async def test_clickup_refresh_failed_row_asks_to_reconnect_without_calling(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    token = clickup_api.issue_token(sandbox.state)
    row = await factory.integration(
        tenant.project,
        "clickup",
        "183",
        {},
        {"access_token": token},
        tenant.user,
        errors="TOKEN_REFRESH_FAILED",
    )
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/clickup_workspaces/", headers=tenant.headers
    )
    assert response.status_code == 400
    assert "could not be refreshed" in response.json()["detail"]
    assert sandbox.state.count_calls("clickup") == 0


async def test_linear_teams_follow_pages(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    names = ["Engineering", "Design", "Ops", "Support", "Sales"]
    ids = [linear_api.add_team(sandbox.state, name) for name in names]
    linear_api.set_page_size(sandbox.state, 2)
    row, token = await linear_integration(factory, sandbox, tenant)
    response = await client.get(f"{tenant.base}/integrations/{row.id}/linear_teams/", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json() == {"teams": [{"id": i, "name": n} for i, n in zip(ids, names, strict=True)]}
    assert sandbox.state.count_calls("linear", "/graphql") == 3
    assert token not in response.text


async def test_linear_wrong_kind_is_400(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    row = await factory.integration(
        tenant.project, "twilio", "AC1", {"account_sid": "AC1"}, {"auth_token": "t"}
    )
    response = await client.get(f"{tenant.base}/integrations/{row.id}/linear_teams/", headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "linear_teams endpoint is only supported for Linear integrations"


async def twilio_row(
    factory: Factory, sandbox: SandboxServer, tenant: Tenant, auth_token: str = "twilio-secret-1"
) -> tuple[Integration, str]:
    sid = twilio_sim.add_account(sandbox.state, auth_token=auth_token)
    row = await factory.integration(
        tenant.project, "twilio", sid, {"account_sid": sid}, {"auth_token": auth_token}, tenant.user
    )
    return row, sid


async def test_twilio_numbers_empty_account_is_empty_list(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await twilio_row(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/twilio_phone_numbers/", headers=tenant.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["phone_numbers"] == [] and body["lastRefreshedAt"]


async def test_twilio_numbers_listed_cached_and_force_refreshed(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, sid = await twilio_row(factory, sandbox, tenant)
    number = twilio_sim.add_number(sandbox.state, sid, "+14155551234", "(415) 555-1234")
    url = f"{tenant.base}/integrations/{row.id}/twilio_phone_numbers/"
    first = (await client.get(url, headers=tenant.headers)).json()
    assert first["phone_numbers"] == [
        {"sid": number["sid"], "phone_number": "+14155551234", "friendly_name": "(415) 555-1234"}
    ]
    twilio_sim.add_number(sandbox.state, sid, "+14155550000", "Second")
    assert (await client.get(url, headers=tenant.headers)).json() == first
    refreshed = (await client.get(url, headers=tenant.headers, params={"force_refresh": "true"})).json()
    assert len(refreshed["phone_numbers"]) == 2
    assert "twilio-secret-1" not in str(refreshed)
    assert sandbox.state.count_calls("twilio", "IncomingPhoneNumbers") == 2


async def test_twilio_wrong_kind_is_400(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, _ = await linear_integration(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{row.id}/twilio_phone_numbers/", headers=tenant.headers
    )
    assert response.status_code == 400 and response.json()["attr"] == "kind"


async def test_linear_token_past_half_life_is_refreshed_before_listing(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Any
) -> None:
    import time

    linear_api.add_team(sandbox.state, "Engineering")
    access, refresh = sandbox.state.issue_tokens(
        "linear", "linear", {"organization": linear_api.DEFAULT_ORGANIZATION}, prefix="lin"
    )
    sandbox.state.revoke(access)  # only a refreshed token can list teams
    row = await factory.integration(
        tenant.project,
        "linear",
        linear_api.DEFAULT_ORGANIZATION["id"],
        {"expires_in": 3600, "refreshed_at": int(time.time()) - 3000},
        {"access_token": access, "refresh_token": refresh},
        tenant.user,
    )
    response = await client.get(f"{tenant.base}/integrations/{row.id}/linear_teams/", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert [t["name"] for t in response.json()["teams"]] == ["Engineering"]
    assert sandbox.state.count_calls("linear", "/oauth/token") == 1
    assert access not in response.text and refresh not in response.text
