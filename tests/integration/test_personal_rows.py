"""A `posthog` integration is someone's personal API key: as in PostHog, only the person who connected
it sees it. Anyone else in the project, a project admin included, gets it in no list and a 404 on
every route that names it; the rows of every other kind stay shared."""

from __future__ import annotations

import httpx
import pytest

from patchbay.integration.repository import PERSONAL_KIND, IntegrationRepository, visible_integrations
from patchbay.models import Integration, MembershipLevel
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
SENTINEL = "phx_SENTINEL_personal_5c1e"
ALL_SCOPES = ["*", "integration_credentials:read"]


async def _world(factory: Factory, tenant: Tenant) -> tuple[Tenant, Integration, Integration, Integration]:
    """The owner's personal row, an admin in the same project, a shared row and an orphaned personal row."""
    admin = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=ALL_SCOPES)
    personal = await factory.integration(
        tenant.project, PERSONAL_KIND, "US:owner", {"email": "owner@example.com"},
        {"personal_api_key": SENTINEL}, created_by=tenant.user,
    )  # fmt: skip
    shared = await factory.integration(tenant.project, "twilio", "AC1", created_by=tenant.user)
    orphan = await factory.integration(tenant.project, PERSONAL_KIND, "US:gone", created_by=None)
    return admin, personal, shared, orphan


async def test_lists_show_only_the_callers_own_personal_rows(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant
) -> None:
    admin, personal, shared, _ = await _world(factory, tenant)
    base = f"{tenant.base}/integrations/"
    mine = (await client.get(base, headers=tenant.headers)).json()
    assert [r["id"] for r in mine["results"]] == [personal.id, shared.id] and mine["count"] == 2
    theirs = (await client.get(base, headers=admin.headers)).json()
    assert [r["id"] for r in theirs["results"]] == [shared.id] and theirs["count"] == 1
    of_kind = (await client.get(base, params={"kind": PERSONAL_KIND}, headers=admin.headers)).json()
    assert of_kind["count"] == 0 and of_kind["results"] == []
    own_kind = (await client.get(base, params={"kind": PERSONAL_KIND}, headers=tenant.headers)).json()
    assert [r["id"] for r in own_kind["results"]] == [personal.id]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/credentials"), ("GET", "/proxy/api/users/@me/"), ("GET", "/activity"),
     ("POST", "/check"), ("DELETE", "")],
)  # fmt: skip
async def test_every_route_answers_404_for_someone_elses_personal_row(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, runtime: Runtime, method: str, suffix: str
) -> None:
    admin, personal, _, orphan = await _world(factory, tenant)
    for row in (personal, orphan):
        response = await client.request(method, f"{tenant.base}/integrations/{row.id}{suffix}", headers=admin.headers)
        assert response.status_code == 404, (row.kind, response.text)
        assert response.json() == NOT_FOUND
        assert SENTINEL not in response.text
    async with runtime.db.session() as session:
        assert await session.get(Integration, personal.id) is not None, "nothing was deleted"
    # Its creator reaches the same row.
    answer = await client.get(f"{tenant.base}/integrations/{personal.id}", headers=tenant.headers)
    assert answer.status_code == 200 and answer.json()["id"] == personal.id


async def test_its_creator_deletes_it(client: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> None:
    _, personal, _, _ = await _world(factory, tenant)
    response = await client.delete(f"{tenant.base}/integrations/{personal.id}", headers=tenant.headers)
    assert response.status_code == 204, response.text
    gone = await client.get(f"{tenant.base}/integrations/{personal.id}", headers=tenant.headers)
    assert gone.status_code == 404


async def test_the_repository_filters_by_its_viewer(factory: Factory, tenant: Tenant, runtime: Runtime) -> None:
    admin, personal, shared, orphan = await _world(factory, tenant)
    async with runtime.db.session() as session:
        for viewer, expected in ((tenant, {personal.id, shared.id}), (admin, {shared.id})):
            repo = IntegrationRepository(session, tenant.project.id, viewer.user.id)
            assert {r.id for r in await session.scalars(repo.readable_statement())} == expected
            assert (await repo.get(personal.id) is not None) is (viewer is tenant)
            assert (await repo.get_for_call(personal.id) is not None) is (viewer is tenant)
            assert (await repo.get_model(personal.id) is not None) is (viewer is tenant)
            assert await repo.get(orphan.id) is None
        seen = visible_integrations(tenant.project.id, admin.user.id, Integration.id)
        assert set(await session.scalars(seen)) == {shared.id}
