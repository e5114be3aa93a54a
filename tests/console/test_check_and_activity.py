"""The integrations page's "Check now" (integration_check's service) and each integration's activity
log (the activity service), over plain HTTP against the Twilio simulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from patchbay.activity.service import record_activity
from patchbay.models import IntegrationActivity, MembershipLevel
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.console.helpers import signed_in
from tests.support.factory import Factory, Tenant

SENTINEL = "SENTINEL-console-check-twilio-token-5e0d"


async def _twilio(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> tuple[int, str]:
    sid = twilio.add_account(sandbox.state, auth_token=SENTINEL)
    row = await factory.integration(
        tenant.project, "twilio", sid, {"account_sid": sid}, {"auth_token": SENTINEL}, tenant.user
    )
    return row.id, sid


def _row(html: str, pk: int) -> str:
    found = re.search(rf'<tr data-integration="{pk}">(.*?)</tr>', html, re.S)
    assert found, html[:3000]
    return found.group(1)


async def test_check_now_changes_health_and_the_activity_page_lists_the_checks(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    pk, sid = await _twilio(factory, sandbox, tenant)
    token = await signed_in(client, runtime, tenant)
    base = f"/console/projects/{tenant.project.id}/integrations"
    listed = await client.get(base)
    assert f'action="{base}/{pk}/check"' in _row(listed.text, pk)
    assert "No activity yet" in _row(listed.text, pk)  # no activity recorded so far

    checked = await client.post(f"{base}/{pk}/check", data={"csrf_token": token})
    assert checked.status_code == 303 and checked.headers["location"] == f"{base}?notice=checked-healthy"
    assert sandbox.state.count_calls("twilio", sid) == 1  # the verification call reached the simulator

    twilio_accounts = sandbox.state.provider_data("twilio")["accounts"]
    twilio_accounts[sid]["auth_token"] = "rotated-by-the-owner"
    refused = await client.post(f"{base}/{pk}/check", data={"csrf_token": token}, follow_redirects=True)
    assert refused.status_code == 200
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', refused.text, re.S)
    assert notice and "refused the credentials. Health: Reconnect needed." in notice.group(1)
    row = _row(refused.text, pk)
    assert 'class="health reauthorization_required">Reconnect needed' in row
    assert "No activity yet" not in row and f'href="{base}/{pk}/activity"' in row
    assert SENTINEL not in refused.text

    log = await client.get(f"{base}/{pk}/activity")
    assert log.status_code == 200, log.text
    outcomes = re.findall(r'<tr data-activity="\d+">.*?<td>(\w+)</td>.*?class="health (\w+)"', log.text, re.S)
    assert outcomes == [("check", "reauthorization_required"), ("check", "healthy")]  # newest first
    assert "1–2 of 2" in log.text and SENTINEL not in log.text


async def test_the_activity_page_is_paginated(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    pk, _ = await _twilio(factory, sandbox, tenant)
    token = await signed_in(client, runtime, tenant)
    base = f"/console/projects/{tenant.project.id}/integrations/{pk}"
    for _ in range(3):
        assert (await client.post(f"{base}/check", data={"csrf_token": token})).status_code == 303
    first = await client.get(f"{base}/activity?limit=2")
    assert first.text.count("<tr data-activity=") == 2 and "1–2 of 3" in first.text
    older = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert older and "offset=2" in older.group(1)
    second = await client.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("<tr data-activity=") == 1 and "3–3 of 3" in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    capped = await client.get(f"{base}/activity?limit=1000")
    assert capped.text.count("<tr data-activity=") == 3


async def test_a_member_may_check_as_the_api_allows(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    pk, _ = await _twilio(factory, sandbox, tenant)
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    token = await signed_in(client, runtime, member)
    base = f"/console/projects/{tenant.project.id}/integrations"
    assert "Check now" in _row((await client.get(base)).text, pk)
    answer = await client.post(f"{base}/{pk}/check", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"].endswith("notice=checked-healthy")


async def test_another_organization_gets_404_for_the_integration(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    pk, sid = await _twilio(factory, sandbox, tenant)
    stranger = await factory.tenant()
    token = await signed_in(client, runtime, stranger)
    # Through their own project, our integration does not exist.
    own = f"/console/projects/{stranger.project.id}/integrations/{pk}"
    assert (await client.get(f"{own}/activity")).status_code == 404
    assert (await client.post(f"{own}/check", data={"csrf_token": token})).status_code == 404
    # Through ours, the project refuses them as the API does.
    ours = f"/console/projects/{tenant.project.id}/integrations/{pk}"
    assert (await client.get(f"{ours}/activity")).status_code == 403
    assert (await client.post(f"{ours}/check", data={"csrf_token": token})).status_code == 403
    assert sandbox.state.count_calls("twilio", sid) == 0  # nothing was checked
    assert (
        await client.get(f"/console/projects/{stranger.project.id}/integrations/abc/activity")
    ).status_code == 404


async def test_last_activity_is_the_newest_row_of_the_project_inside_the_retention(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    used = await factory.integration(tenant.project, "twilio", "AC7", {"account_sid": "AC7"}, {}, tenant.user)
    stale = await factory.integration(
        tenant.project, "twilio", "AC8", {"account_sid": "AC8"}, {}, tenant.user
    )
    other = await factory.tenant()
    now = datetime.now(UTC)
    newest = now - timedelta(days=1)
    async with runtime.db.transaction() as session:
        for pk, project_id in (
            (used.id, tenant.project.id),
            (stale.id, tenant.project.id),
            (used.id, other.project.id),
        ):
            await record_activity(
                session, integration_id=pk, team_id=project_id, action="check", outcome="healthy"
            )
    async with runtime.db.transaction() as session:
        ages = {
            (used.id, tenant.project.id): newest,
            (stale.id, tenant.project.id): now - timedelta(days=31),  # past the 30-day retention
            (used.id, other.project.id): now,  # another project's row never counts
        }
        for (pk, project_id), when in ages.items():
            await session.execute(
                update(IntegrationActivity)
                .where(IntegrationActivity.integration_id == pk, IntegrationActivity.project_id == project_id)
                .values(created_at=when)
            )
    await signed_in(client, runtime, tenant)
    page = (await client.get(f"/console/projects/{tenant.project.id}/integrations")).text
    assert newest.strftime("%Y-%m-%d %H:%M UTC") in _row(page, used.id)
    assert "No activity yet" in _row(page, stale.id)
