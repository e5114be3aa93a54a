"""Project integrations created for the same provider account by two organizations and by two
projects of one organization: each caller keeps its own row, and nothing of one is visible to,
or changed by, the others (created_by, secrets, config, counts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from patchbay.runtime import Runtime
from patchbay.sandbox.providers import slack_api, twilio
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import consent
from tests.security.cross_tenant import (
    assert_each_keeps_its_own,
    assert_unchanged,
    callers,
    rows_of,
    snapshot,
)
from tests.support.factory import Factory, Tenant

Owned = dict[int, tuple[Tenant, dict[str, Any]]]
SID = "AC" + "c7" * 16
DATABRICKS_HOST = "52.1.2.3"


async def create(
    client: httpx.AsyncClient, tenant: Tenant, kind: str, config: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers
    )


async def test_same_twilio_account(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    group = await callers(factory)
    owned: Owned = {}
    for n, tenant in enumerate(group.all()):
        # The account's token as this caller knows it (Twilio tokens rotate): every row keeps its own.
        token = f"SENTINEL-twilio-{n}"
        twilio.add_account(sandbox.state, auth_token=token, sid=SID)
        response = await create(client, tenant, "twilio", {"account_sid": SID, "auth_token": token})
        await assert_unchanged(runtime, owned)
        assert response.status_code == 201, response.text
        pk = response.json()["id"]
        owned[pk] = (tenant, await snapshot(runtime, pk))
        assert owned[pk][1]["secrets"] == {"auth_token": token}
        assert owned[pk][1]["config"] == {"account_sid": SID}
    assert len(await rows_of(runtime, "twilio", SID)) == 3
    await assert_each_keeps_its_own(client, runtime, owned, "twilio")

    # Reconnecting updates the caller's own row, in place, and no other.
    twilio.add_account(sandbox.state, auth_token="SENTINEL-twilio-again", sid=SID)
    again = await create(
        client, group.b, "twilio", {"account_sid": SID, "auth_token": "SENTINEL-twilio-again"}
    )
    await assert_unchanged(runtime, {pk: v for pk, v in owned.items() if v[0] is not group.b})
    assert again.status_code == 201, again.text
    pk = again.json()["id"]
    assert owned[pk][0] is group.b
    owned[pk] = (group.b, await snapshot(runtime, pk))
    assert owned[pk][1]["secrets"] == {"auth_token": "SENTINEL-twilio-again"}
    await assert_each_keeps_its_own(client, runtime, owned, "twilio")


async def test_same_databricks_workspace_and_client(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    group = await callers(factory)
    owned: Owned = {}
    for n, tenant in enumerate(group.all()):
        config = {
            "server_hostname": DATABRICKS_HOST,
            "client_id": "shared-client",
            "client_secret": f"SENTINEL-{n}",
        }
        response = await create(client, tenant, "databricks", config)
        await assert_unchanged(runtime, owned)
        assert response.status_code == 201, response.text
        pk = response.json()["id"]
        owned[pk] = (tenant, await snapshot(runtime, pk))
        assert owned[pk][1]["secrets"] == {"client_id": "shared-client", "client_secret": f"SENTINEL-{n}"}
    assert len(await rows_of(runtime, "databricks", DATABRICKS_HOST)) == 3
    await assert_each_keeps_its_own(client, runtime, owned, "databricks")


async def test_same_slack_workspace_through_oauth(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    group = await callers(factory)
    owned: Owned = {}
    for tenant in group.all():
        given = await consent(client, tenant, "slack")
        finished = await client.get(given.callback_path)
        await assert_unchanged(runtime, owned)
        assert finished.status_code == 302, finished.text
        pk = int(parse_qs(urlsplit(finished.headers["location"]).query)["integration_id"][0])
        owned[pk] = (tenant, await snapshot(runtime, pk))
        assert owned[pk][1]["integration_id"] == slack_api.DEFAULT_TEAM_ID
    tokens = {before["secrets"]["access_token"] for _, before in owned.values()}
    assert len(tokens) == 3  # one token per connection, each in its own row
    assert len(await rows_of(runtime, "slack", slack_api.DEFAULT_TEAM_ID)) == 3
    await assert_each_keeps_its_own(client, runtime, owned, "slack")

    # The channels of each row are fetched with that row's own token.
    for pk, (tenant, _) in owned.items():
        channels = await client.get(f"{tenant.base}/integrations/{pk}/channels/", headers=tenant.headers)
        assert channels.status_code == 200, channels.text


async def test_same_email_sender_domain(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    group = await callers(factory)
    owned: Owned = {}
    for tenant in (group.a1, group.a2):
        # Two projects of one organization may send from the same address: a row each.
        response = await create(
            client, tenant, "email", {"email": "news@shared-mail.com", "name": tenant.user.email}
        )
        await assert_unchanged(runtime, owned)
        assert response.status_code == 201, response.text
        pk = response.json()["id"]
        owned[pk] = (tenant, await snapshot(runtime, pk))
        assert owned[pk][1]["config"]["name"] == tenant.user.email

    # Another organization may not use the domain at all (PostHog's rule), with any address.
    for address in ("news@shared-mail.com", "other@shared-mail.com"):
        refused = await create(client, group.b, "email", {"email": address, "name": "B"})
        assert refused.status_code == 400
        assert refused.json()["detail"] == (
            "An email integration with domain shared-mail.com already exists in another organization. "
            "Try a different domain or contact support if you believe this is a mistake."
        )
    listed = await client.get(f"{group.b.base}/integrations/", headers=group.b.headers)
    assert listed.json()["count"] == 0
    assert len(await rows_of(runtime, "email", "news@shared-mail.com")) == 2
    await assert_each_keeps_its_own(client, runtime, owned, "email")

    # Renaming one project's sender leaves the other project's alone.
    a2_pk = next(pk for pk, (tenant, _) in owned.items() if tenant is group.a2)
    renamed = await client.patch(
        f"{group.a2.base}/integrations/{a2_pk}/email/",
        json={"config": {"name": "A2"}},
        headers=group.a2.headers,
    )
    assert renamed.status_code == 200, renamed.text
    owned[a2_pk] = (group.a2, await snapshot(runtime, a2_pk))
    assert owned[a2_pk][1]["config"]["name"] == "A2"
    await assert_each_keeps_its_own(client, runtime, owned, "email")
