"""The browser callback carries no API key: it acts as the user who started the attempt, with that
user's membership as it is when the callback arrives. A user deactivated or removed meanwhile is
refused, and a member (not a project admin) cannot overwrite an account someone else connected."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, update

from patchbay.models import MembershipLevel, OrganizationMembership, User
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, consent, row, rows
from tests.support.factory import Factory, Tenant

NO_ACCESS = {
    "type": "authentication_error",
    "code": "permission_denied",
    "detail": "You don't have access to the project.",
    "attr": None,
}


async def test_a_user_deactivated_before_the_callback_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(is_active=False))
    response = await client.get(given.callback_path)
    assert response.status_code == 403, response.text
    assert response.json() == NO_ACCESS
    assert await rows(runtime) == []


async def test_a_member_removed_before_the_callback_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    given = await consent(client, member, "linear")
    async with runtime.db.transaction() as session:
        await session.execute(
            delete(OrganizationMembership).where(
                OrganizationMembership.user_id == member.user.id,
                OrganizationMembership.organization_id == tenant.organization.id,
            )
        )
    response = await client.get(given.callback_path)
    assert response.status_code == 403, response.text
    assert response.json() == NO_ACCESS
    assert await rows(runtime) == []


async def test_a_member_cannot_overwrite_an_account_another_user_connected(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    before = await row(runtime, pk)
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    given = await consent(client, member, "linear")  # the sandbox connects the same Linear account
    response = await client.get(given.callback_path)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "Editing an existing integration requires project admin access."
    after = await row(runtime, pk)
    assert (after.created_by_id, after.sensitive_config) == (before.created_by_id, before.sensitive_config)
    assert after.created_by_id == tenant.user.id
    # The owner (project admin) may reconnect it: the callback acts at the starter's own level.
    assert await connect(client, tenant, "linear") == pk
