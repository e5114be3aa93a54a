"""The statements every tenant-scoped request runs (built once at import: the caller with project and
membership, the integration reads) answer for the caller's own project only.

mutmut does not mutate code that runs at import time (its workers are forked after the import), so
these statements are guarded here: widen one and this test fails."""

from __future__ import annotations

import httpx

from patchbay.models import MembershipLevel
from tests.support.factory import Factory, Tenant


async def _ids(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[int]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(row["id"] for row in response.json()["results"])


async def test_tenant_statements_see_only_the_callers_project(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    sibling = await factory.project(tenant.organization)
    mine = [await factory.integration(tenant.project, kind=kind) for kind in ("twilio", "twilio", "slack")]
    theirs = await factory.integration(other.project, kind="twilio", integration_id=mine[0].integration_id)
    beside = await factory.integration(sibling, kind="twilio")
    own_ids = sorted(row.id for row in mine)

    # Lists and kind filters: the project's rows, nothing of the sibling project or the other org.
    assert await _ids(client, f"{tenant.base}/integrations/", tenant.headers) == own_ids
    assert await _ids(client, "/api/projects/@current/integrations/", tenant.headers) == own_ids
    assert await _ids(client, f"{tenant.base}/integrations/?kind=twilio", tenant.headers) == own_ids[:2]
    assert await _ids(client, f"{other.base}/integrations/", other.headers) == [theirs.id]
    assert await _ids(client, f"/api/projects/{sibling.id}/integrations/", tenant.headers) == [beside.id]

    # One row by id: only through its own project.
    own = await client.get(f"{tenant.base}/integrations/{mine[0].id}/", headers=tenant.headers)
    assert own.status_code == 200 and own.json()["id"] == mine[0].id
    for row in (theirs, beside):
        response = await client.get(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)
        assert response.status_code == 404, response.text

    # The caller lookup joins the membership of the project's own organization.
    foreign = await client.get(f"{other.base}/integrations/", headers=tenant.headers)
    assert foreign.status_code == 403, foreign.text
    assert foreign.json()["detail"] == "You don't have access to the project."
    missing = await client.get("/api/projects/2147483000/integrations/", headers=tenant.headers)
    assert missing.status_code == 404
    unknown_key = {"Authorization": "Bearer phx_nope"}
    assert (await client.get(f"{tenant.base}/integrations/", headers=unknown_key)).status_code == 401

    # A member of the other organization sees its project at member level, and only its rows.
    await factory.member(other.organization, tenant.user, MembershipLevel.MEMBER)
    assert await _ids(client, f"{other.base}/integrations/", tenant.headers) == [theirs.id]
    refused = await client.delete(f"{other.base}/integrations/{theirs.id}/", headers=tenant.headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"] == "You don't have sufficient permissions in the project."
    assert await _ids(client, f"{other.base}/integrations/", other.headers) == [theirs.id]
