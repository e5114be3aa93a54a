"""The API keys page over plain HTTP: create (scopes from the list, the value shown once), last use,
revoke (refused by the API at once), and nobody reaches another user's keys."""

from __future__ import annotations

import re

import httpx

from patchbay.models import MembershipLevel
from patchbay.runtime import Runtime
from tests.console.helpers import signed_in, text_of
from tests.support.factory import Factory, Tenant


async def test_create_shows_the_value_once_with_the_chosen_scopes(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    token = await signed_in(client, runtime, tenant)
    made = await client.post(
        "/console/keys",
        data={"csrf_token": token, "label": "ci", "scopes": ["integration:read", "webhook:write"]},
    )
    assert made.status_code == 201
    value = text_of(made.text, "key-value")
    assert value.startswith("phx_")
    listed = await client.get(f"{tenant.base}/integrations/", headers={"Authorization": f"Bearer {value}"})
    assert listed.status_code == 200
    denied = await client.get(f"{tenant.base}/proxy_records/", headers={"Authorization": f"Bearer {value}"})
    assert denied.status_code in (403, 404)
    again = await client.get("/console/keys")
    assert value not in again.text and "integration:read, webhook:write" in again.text
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", again.text)  # the key's last use


async def test_revoke_is_refused_by_the_api_at_once(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    token = await signed_in(client, runtime, tenant)
    key_id = re.search(r'<tr data-key="([^"]+)">', (await client.get("/console/keys")).text)
    assert key_id
    assert (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).status_code == 200
    done = await client.post(f"/console/keys/{key_id.group(1)}/revoke", data={"csrf_token": token})
    assert done.status_code == 303
    assert (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).status_code == 401


async def test_nobody_revokes_another_users_key(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.ADMIN)
    owner_keys = await client.get("/console/keys")
    assert owner_keys.status_code == 303
    token = await signed_in(client, runtime, member)
    page = await client.get("/console/keys")
    found = re.findall(r'<tr data-key="([^"]+)">', page.text)
    assert len(found) == 1  # only the admin's own key
    from patchbay.account.repository import AccountRepository

    async with runtime.db.session() as session:
        (owner_key,) = await AccountRepository(session).keys_of(tenant.user.id)
    refused = await client.post(f"/console/keys/{owner_key.id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 404
    assert (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).status_code == 200


async def test_a_bad_scope_is_refused_with_the_accounts_words(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    token = await signed_in(client, runtime, tenant)
    made = await client.post(
        "/console/keys", data={"csrf_token": token, "label": "x", "scopes": ["root:all"]}
    )
    assert made.status_code == 400 and "Invalid scope: root:all" in text_of(made.text, "key-error")
