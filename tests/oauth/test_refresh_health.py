"""The refresher and the health taxonomy, against the sandbox: a revoked grant turns
reauthorization_required (one event), a 5xx storm refresh_failed and never reauthorization_required,
recovery healthy with `integration.recovered`, reconnecting clears the state; idle grants are
refreshed daily; every refresh is counted in patchbay_token_refresh_total."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from patchbay.config import Settings
from patchbay.models import TOKEN_REFRESH_FAILED
from patchbay.oauth.refresh import IDLE_REFRESH_SECONDS, refresh_due_integrations, refresh_integration
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.integration_check.helpers import health_events, subscribe
from tests.oauth.helpers import connect, row, secrets_of
from tests.oauth.test_refresh import age, refresh_grants
from tests.support.factory import Tenant


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    """Loopback webhook endpoints allowed: health events are read back from the outbox."""
    return make_settings(webhook_allow_private=True)  # type: ignore[no-any-return]


def refreshes(kind: str, result: str) -> float:
    value = REGISTRY.get_sample_value("patchbay_token_refresh_total", {"kind": kind, "result": result})
    return value or 0.0


async def _health(client: httpx.AsyncClient, tenant: Tenant, pk: int) -> dict[str, object]:
    body = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    health: dict[str, object] = body["health"]
    return health


async def test_revoked_grant_turns_reauthorization_required(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await subscribe(client, tenant)
    pk = await connect(client, tenant, "linear")
    assert (await _health(client, tenant, pk))["status"] == "healthy"
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
    refused = refreshes("linear", "invalid_grant")
    for _ in range(2):  # a second refusal is not a second transition
        result = await refresh_integration(runtime, pk, tenant.project.id, force=True)
        assert result.failure == "invalid_grant"
    assert refreshes("linear", "invalid_grant") == refused + 2
    stored = await row(runtime, pk)
    assert stored.errors == TOKEN_REFRESH_FAILED  # PostHog's field, as PostHog sets it
    health = await _health(client, tenant, pk)
    assert health["status"] == "reauthorization_required"
    assert health["detail"] == "The provider refused this integration's credentials. Please reconnect it."
    events = await health_events(runtime)
    assert [(e["type"], e["data"]["error"]["code"]) for e in events] == [
        ("integration.reauthorization_required", "invalid_grant")
    ]


async def test_a_5xx_storm_is_refresh_failed_never_reauthorization_required(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await subscribe(client, tenant)
    pk = await connect(client, tenant, "linear")
    sandbox.state.inject("linear", "503", count=50, path_contains="/oauth/token")
    sandbox.state.inject("linear", "timeout", count=1, path_contains="/oauth/token")
    failures = []
    for _ in range(6):
        failures.append((await refresh_integration(runtime, pk, tenant.project.id, force=True)).failure)
    assert set(failures) <= {"http_5xx", "network"} and "http_5xx" in failures
    stored = await row(runtime, pk)
    assert stored.health_status == "refresh_failed"
    assert stored.config["refresh_failure_count"] == 6
    assert stored.config["refresh_next_attempt_at"] > time.time()  # backing off
    assert "refresh_terminal" not in stored.config  # never a cause to disconnect
    assert [e["type"] for e in await health_events(runtime)] == ["integration.refresh_failed"]

    sandbox.state.clear_faults()
    recovered = await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert recovered.refreshed
    health = await _health(client, tenant, pk)
    assert health["status"] == "healthy" and health["detail"] is None
    assert (await row(runtime, pk)).errors == ""
    events = await health_events(runtime)
    assert [e["type"] for e in events] == ["integration.refresh_failed", "integration.recovered"]
    assert "error" not in events[-1]["data"]
    log = (await client.get(f"{tenant.base}/integrations/{pk}/activity/", headers=tenant.headers)).json()
    outcomes = [(r["action"], r["outcome"], r["status_code"]) for r in log["results"]]
    assert outcomes[0] == ("refresh", "success", 200)
    assert ("refresh", "http_5xx", 503) in outcomes[1:]
    assert all(r["duration_ms"] is not None and r["path"] is None for r in log["results"])


async def test_reconnecting_the_same_account_clears_the_failure(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await subscribe(client, tenant)
    pk = await connect(client, tenant, "linear")
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
    await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert (await _health(client, tenant, pk))["status"] == "reauthorization_required"
    assert await connect(client, tenant, "linear") == pk  # same kind and account: same row
    body = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    assert body["errors"] == "" and body["health"]["status"] == "healthy"
    assert body["health"]["detail"] is None
    assert [e["type"] for e in await health_events(runtime)] == [
        "integration.reauthorization_required",
        "integration.recovered",
    ]


async def test_idle_grants_are_refreshed_daily(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    idle = await connect(client, tenant, "linear")
    recent = await connect(client, tenant, "hubspot")
    month = 30 * 86400  # far from its half-life: only the daily rule can make it due
    await age(runtime, idle, IDLE_REFRESH_SECONDS + 60, expires_in=month)
    await age(runtime, recent, IDLE_REFRESH_SECONDS - 3600, expires_in=month)
    successes = refreshes("linear", "success")
    assert await refresh_due_integrations(runtime) == 1
    assert refresh_grants(sandbox, "linear") == 1 and refresh_grants(sandbox, "hubspot") == 0
    assert refreshes("linear", "success") == successes + 1
    after = await row(runtime, idle)
    assert after.config["refreshed_at"] >= int(time.time()) - 5
    health = await _health(client, tenant, idle)
    assert health["status"] == "healthy" and health["last_refreshed_at"] is not None
    assert await refresh_due_integrations(runtime) == 0  # refreshed now: not due for a day
