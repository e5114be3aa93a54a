"""The create and the delete as one statement (PostgreSQL's `save_alone`, `delete_alone`) keep every
rule of the session's path: PostHog's overwrite rules, admin-or-creator deletes, the tenant's own
rows, the stored secrets. On PostgreSQL the statements are counted (one for a change that decides
alone); SQLite takes the session's path and passes the same checks of what is answered and stored."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from patchbay.integration.repository import IntegrationRepository
from patchbay.models import MembershipLevel
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Factory, Tenant

_hosts = itertools.count(1)
SENTINEL = "SENTINEL-save-alone-secret-41c7"


def databricks(secret: str = SENTINEL) -> tuple[str, dict[str, Any]]:
    """A databricks create for an account no test used before (a public address, no DNS)."""
    host = f"8.8.{next(_hosts) % 250}.{next(_hosts) % 250 + 1}"
    return host, {
        "kind": "databricks",
        "config": {"server_hostname": host, "client_id": "client", "client_secret": secret},
    }


async def warm_up(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The first request of a key stamps its last use (an hourly write in the request's session,
    which a create then commits with its own): steady state comes after it."""
    assert (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).status_code == 200


def create_statements(statements: list[str]) -> list[str]:
    """What the create sent, less the caller's lookup (no caller cache without the app's listener)."""
    return [s for s in statements if "personal_api_keys" not in s]


async def stored(runtime: Runtime, project_id: int, pk: int) -> Any:
    async with runtime.db.session() as session:
        # No personal (posthog) rows in these tests: any viewer sees every row.
        return await IntegrationRepository(session, project_id, viewer_id=0).get_model(pk)


async def test_a_new_account_is_one_statement_and_answers_what_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, backend: str
) -> None:
    await warm_up(client, tenant)
    host, body = databricks()
    with runtime.db.watch_statements() as statements:
        created = await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    if backend == "postgresql":
        [statement] = create_statements(statements)
        assert statement.lstrip().startswith("WITH saved AS")
    answer = created.json()
    assert answer["kind"] == "databricks" and answer["config"] == {"server_hostname": host}
    assert answer["created_by"]["email"] == tenant.user.email
    assert answer["health"]["status"] == "unknown" and answer["errors"] == ""
    assert SENTINEL not in created.text
    retrieved = await client.get(f"{tenant.base}/integrations/{answer['id']}/", headers=tenant.headers)
    assert retrieved.json() == answer
    row = await stored(runtime, tenant.project.id, answer["id"])
    assert row.integration_id == host and row.created_by_id == tenant.user.id
    assert SENTINEL not in row.sensitive_config, "stored encrypted"
    assert runtime.keyring.decrypt_json(row.sensitive_config) == {
        "client_id": "client",
        "client_secret": SENTINEL,
    }


async def test_an_admins_reconnect_keeps_the_row_in_one_statement(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, backend: str
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    await warm_up(client, member)
    await warm_up(client, tenant)
    url = f"{tenant.base}/integrations/"
    host, body = databricks("first-secret")
    first = (await client.post(url, json=body, headers=member.headers)).json()
    _, again = databricks("second-secret")
    again["config"]["server_hostname"] = host
    with runtime.db.watch_statements() as statements:
        second = await client.post(url, json=again, headers=tenant.headers)
    assert second.status_code == 201, second.text
    if backend == "postgresql":
        assert len(create_statements(statements)) == 1, statements
    assert second.json()["id"] == first["id"]
    assert second.json()["created_at"] == first["created_at"], "a reconnect keeps created_at"
    assert second.json()["created_by"]["email"] == tenant.user.email, "and is the caller's"
    row = await stored(runtime, tenant.project.id, first["id"])
    assert runtime.keyring.decrypt_json(row.sensitive_config)["client_secret"] == "second-secret"
    assert (await client.get(url, headers=tenant.headers)).json()["count"] == 1


async def test_a_members_overwrite_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    await warm_up(client, member)
    await warm_up(client, tenant)
    url = f"{tenant.base}/integrations/"
    host, body = databricks("admins-secret")
    first = (await client.post(url, json=body, headers=tenant.headers)).json()
    _, again = databricks("members-secret")
    again["config"]["server_hostname"] = host
    refused = await client.post(url, json=again, headers=member.headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": "Editing an existing integration requires project admin access.",
        "attr": None,
    }
    row = await stored(runtime, tenant.project.id, first["id"])
    assert row.created_by_id == tenant.user.id
    assert runtime.keyring.decrypt_json(row.sensitive_config)["client_secret"] == "admins-secret"


async def test_the_same_account_in_another_project_is_that_projects_own_row(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    other = await factory.tenant()
    await warm_up(client, tenant)
    await warm_up(client, other)
    host, body = databricks("mine")
    mine = (await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)).json()
    body["config"]["client_secret"] = "theirs"
    theirs = await client.post(f"{other.base}/integrations/", json=body, headers=other.headers)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"], "never the other project's row"
    row = await stored(runtime, tenant.project.id, mine["id"])
    assert runtime.keyring.decrypt_json(row.sensitive_config)["client_secret"] == "mine"
    assert await stored(runtime, tenant.project.id, theirs.json()["id"]) is None
    listed = (await client.get(f"{other.base}/integrations/", headers=other.headers)).json()
    assert [r["id"] for r in listed["results"]] == [theirs.json()["id"]]
    assert listed["results"][0]["config"] == {"server_hostname": host}


async def test_a_delete_is_one_statement_and_its_hooks_get_the_secrets(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, backend: str
) -> None:
    pk = await connect(client, tenant, "salesforce")
    refresh = secrets_of(runtime, await row(runtime, pk))["refresh_token"]
    with runtime.db.watch_statements() as statements:
        response = await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert response.status_code == 204
    if backend == "postgresql":
        [statement] = create_statements(statements)
        assert statement.lstrip().startswith("DELETE FROM integrations")
    assert await stored(runtime, tenant.project.id, pk) is None
    assert _oauth.revoked(sandbox.state, "salesforce") == [refresh], "the revoke hook had the token"
    gone = await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert gone.status_code == 404


async def test_a_delete_keeps_to_the_projects_rows_and_the_callers_rights(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    other = await factory.tenant()
    for caller in (tenant, member, other):
        await warm_up(client, caller)
    admins = await factory.integration(tenant.project, "twilio", "AC-admins", created_by=tenant.user)
    members = await factory.integration(tenant.project, "twilio", "AC-members", created_by=member.user)
    theirs = await factory.integration(other.project, "twilio", "AC-theirs", created_by=other.user)
    url = f"{tenant.base}/integrations"

    refused = await client.delete(f"{url}/{admins.id}/", headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You don't have sufficient permissions in the project."
    assert await stored(runtime, tenant.project.id, admins.id) is not None
    foreign = await client.delete(f"{url}/{theirs.id}/", headers=tenant.headers)
    assert foreign.status_code == 404 and foreign.json()["type"] == "invalid_request"
    assert await stored(runtime, other.project.id, theirs.id) is not None, "another project's row stays"
    assert (await client.delete(f"{url}/{members.id}/", headers=member.headers)).status_code == 204
    assert (await client.delete(f"{url}/{admins.id}/", headers=tenant.headers)).status_code == 204
    assert (await client.delete(f"{url}/{admins.id}/", headers=tenant.headers)).status_code == 404
    assert await stored(runtime, tenant.project.id, members.id) is None
    assert await stored(runtime, tenant.project.id, admins.id) is None
