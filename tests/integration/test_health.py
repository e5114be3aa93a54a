"""The `health` object on every integration response: each row of a list carries its own, read
from the row's columns (no statement per row), and the values derive from the row as stored."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from patchbay.integration.health import event_for, health_object
from patchbay.models import Integration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant

STATUSES = ("healthy", "unknown", "refresh_failed", "reauthorization_required")
CHECKED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def _seed(runtime: Runtime, factory: Factory, tenant: Tenant, start: int, stop: int) -> list[int]:
    ids = []
    for i in range(start, stop):
        status = STATUSES[i % len(STATUSES)]
        made = await factory.integration(
            tenant.project, "linear", f"org-{i}-{status}", {"refreshed_at": 1_800_000_000 + i, "expires_in": 3600},
            {"access_token": "a"}, tenant.user,
        )  # fmt: skip
        async with runtime.db.transaction() as session:
            await session.execute(
                update(Integration)
                .where(Integration.id == made.id)
                .values(health_status=status, health_detail=f"detail {i}", health_checked_at=CHECKED)
            )
        ids.append(made.id)
    return ids


async def test_list_has_health_for_every_row_without_a_statement_per_row(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)  # key's first use written
    counts = {}
    for start, total in ((0, 1), (1, 9)):
        await _seed(runtime, factory, tenant, start, total)
        with runtime.db.watch_statements() as statements:
            body = (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).json()
        assert len(body["results"]) == total
        counts[total] = len(statements)
    assert counts[1] == counts[9]  # the health columns come with the page's one SELECT
    for i, result in enumerate(body["results"]):
        assert result["health"] == {
            "status": STATUSES[i % len(STATUSES)],
            "detail": f"detail {i}",
            "expires_at": datetime.fromtimestamp(1_800_000_000 + i + 3600, UTC).isoformat().replace("+00:00", "Z"),
            "last_refreshed_at": datetime.fromtimestamp(1_800_000_000 + i, UTC).isoformat().replace("+00:00", "Z"),
            "last_checked_at": "2026-11-30T12:00:00Z",
        }
    one = (await client.get(f"{tenant.base}/integrations/{body['results'][3]['id']}/", headers=tenant.headers)).json()
    assert one == body["results"][3]  # retrieve answers the same object


def test_health_object_of_rows_without_token_data() -> None:
    row = {"config": {"account_sid": "AC1"}, "health_status": "unknown", "health_detail": None,
           "health_checked_at": None}  # fmt: skip
    assert health_object(row) == {
        "status": "unknown", "detail": None, "expires_at": None, "last_refreshed_at": None, "last_checked_at": None,
    }  # fmt: skip
    odd = {**row, "config": {"refreshed_at": "garbage", "expires_in": "x"}}
    assert health_object(odd)["last_refreshed_at"] is None and health_object(odd)["expires_at"] is None
    no_expiry = {**row, "config": {"refreshed_at": 1_800_000_000}}
    assert health_object(no_expiry)["expires_at"] is None
    assert health_object(no_expiry)["last_refreshed_at"] == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def test_events_only_on_transitions_into_or_out_of_failure() -> None:
    assert event_for("healthy", "refresh_failed") == "integration.refresh_failed"
    assert event_for("unknown", "reauthorization_required") == "integration.reauthorization_required"
    assert event_for("refresh_failed", "reauthorization_required") == "integration.reauthorization_required"
    assert event_for("reauthorization_required", "healthy") == "integration.recovered"
    assert event_for("refresh_failed", "healthy") == "integration.recovered"
    assert event_for("refresh_failed", "refresh_failed") is None
    assert event_for("unknown", "healthy") is None
    assert event_for("healthy", "unknown") is None
