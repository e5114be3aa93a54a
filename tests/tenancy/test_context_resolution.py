"""Keys scoped to organizations: one scoped to its own organization reaches it, one scoped to
another does not, on organization routes and project routes alike."""

from __future__ import annotations

import httpx

from tests.support.factory import Factory, Tenant


async def test_a_key_scoped_to_its_organization_reaches_it(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    await factory.member(other.organization, tenant.user)  # a member of both: only the key's scope differs
    own = await factory.key(tenant.user, scoped_organizations=[str(tenant.organization.id)])
    foreign = await factory.key(tenant.user, scoped_organizations=[str(other.organization.id)])
    for url in (f"{tenant.org_base}/integrations/", f"{tenant.base}/integrations/"):
        allowed = await client.get(url, headers={"Authorization": f"Bearer {own}"})
        assert allowed.status_code == 200, (url, allowed.text)
        refused = await client.get(url, headers={"Authorization": f"Bearer {foreign}"})
        assert refused.status_code == 403, (url, refused.text)
        assert "does not have access to the requested organization" in refused.json()["detail"]
