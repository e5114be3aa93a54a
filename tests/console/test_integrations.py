"""The integrations page over plain HTTP: health, delete (offered and refused by the API's rule),
the connect button (a connect session), and the Slack channel preview."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from patchbay.models import TOKEN_REFRESH_FAILED, ConnectSession, Integration, MembershipLevel
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.console.helpers import signed_in
from tests.provider_resources.helpers import INSTALLER, slack_integration
from tests.support.factory import Factory, Tenant


def _row(html: str, pk: int) -> str:
    found = re.search(rf'<tr data-integration="{pk}">(.*?)</tr>', html, re.S)
    assert found, html[:3000]
    return found.group(1)


async def test_the_page_shows_kind_name_and_health(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    good = await factory.integration(tenant.project, "twilio", "AC1", {"account_sid": "AC1"}, {}, tenant.user)
    failing = await factory.integration(tenant.project, "hubspot", "42", {}, {}, tenant.user)
    async with runtime.db.transaction() as session:
        verified = await session.get(Integration, good.id)
        row = await session.get(Integration, failing.id)
        assert row is not None and verified is not None
        verified.health_status = "healthy"  # as a create that proved the credentials leaves it
        row.errors = TOKEN_REFRESH_FAILED
        row.config = {"refresh_terminal": True}
        row.health_status = "reauthorization_required"  # as the refresher leaves it
    await signed_in(client, runtime, tenant)
    page = await client.get(f"/console/projects/{tenant.project.id}/integrations")
    assert page.status_code == 200
    assert "Twilio" in _row(page.text, good.id) and 'class="health healthy">Healthy' in _row(
        page.text, good.id
    )
    assert 'class="health reauthorization_required">Reconnect needed' in _row(page.text, failing.id)
    assert "Content-Security-Policy" in page.headers and page.headers["cache-control"] == "no-store"


async def test_a_member_is_not_offered_delete_and_is_refused_when_posting(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    theirs = await factory.integration(
        tenant.project, "twilio", "AC2", {"account_sid": "AC2"}, {}, tenant.user
    )
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    own = await factory.integration(tenant.project, "twilio", "AC3", {"account_sid": "AC3"}, {}, member.user)
    token = await signed_in(client, runtime, member)
    page = await client.get(f"/console/projects/{tenant.project.id}/integrations")
    assert "Delete" not in _row(page.text, theirs.id) and "Delete" in _row(page.text, own.id)
    refused = await client.post(
        f"/console/projects/{tenant.project.id}/integrations/{theirs.id}/delete", data={"csrf_token": token}
    )
    assert refused.status_code == 403 and "sufficient permissions" in refused.text
    done = await client.post(
        f"/console/projects/{tenant.project.id}/integrations/{own.id}/delete", data={"csrf_token": token}
    )
    assert done.status_code == 303
    async with runtime.db.session() as session:
        left = set((await session.scalars(select(Integration.id))).all())
    assert left == {theirs.id}


async def test_another_organization_sees_nothing(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    stranger = await factory.tenant()
    await signed_in(client, runtime, stranger)
    page = await client.get(f"/console/projects/{tenant.project.id}/integrations")
    assert page.status_code == 403 and "access to the project" in page.text
    assert (await client.get("/console/projects/99999999999/integrations")).status_code == 404


async def test_connect_makes_a_connect_session_and_goes_to_its_page(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    token = await signed_in(client, runtime, tenant)
    page = await client.get(f"/console/projects/{tenant.project.id}/integrations")
    assert '<option value="twilio">Twilio</option>' in page.text
    answer = await client.post(
        f"/console/projects/{tenant.project.id}/integrations/connect",
        data={"csrf_token": token, "kind": "twilio"},
    )
    assert answer.status_code == 303 and urlsplit(answer.headers["location"]).path.startswith("/connect/pcs_")
    async with runtime.db.session() as session:
        (made,) = (await session.scalars(select(ConnectSession))).all()
    assert made.kinds == ["twilio"] and made.created_by_id == tenant.user.id
    assert made.next_url == f"/console/projects/{tenant.project.id}/integrations?notice=connected"
    bad = await client.post(
        f"/console/projects/{tenant.project.id}/integrations/connect",
        data={"csrf_token": token, "kind": "nope"},
    )
    assert bad.status_code == 400


async def test_slack_channel_preview(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    slack_api.add_channel(sandbox.state, "general", members=[INSTALLER])
    row, _ = await slack_integration(factory, sandbox, tenant)
    await signed_in(client, runtime, tenant)
    page = await client.get(f"/console/projects/{tenant.project.id}/integrations")
    assert f'/integrations/{row.id}/channels"' in page.text
    channels = await client.get(f"/console/projects/{tenant.project.id}/integrations/{row.id}/channels")
    assert channels.status_code == 200, channels.text
    assert '<span class="grow">#general</span>' in channels.text
