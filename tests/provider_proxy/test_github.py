"""GitHub App installations through the proxy and the credentials route, against the sandbox's
GitHub: calls carry the installation token (never the caller's key), a token past its half-life is
minted anew first (once for concurrent calls), a 401 forces one mint and one retry, and the
credentials route hands the installation token over."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import update

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.providers.github import simulator as github_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Factory, Tenant

SCOPE = "integration_credentials:read"
REPOS = "/installation/repositories"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


def _mints(sandbox: SandboxServer) -> int:
    return sandbox.state.count_calls("github", "/access_tokens", method="POST")


def _auths(sandbox: SandboxServer) -> list[str]:
    return [c.headers.get("authorization", "") for c in sandbox.state.calls if c.path.endswith(REPOS)]


async def _installed(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> int:
    github_sim.next_install(sandbox.state, "acme", ["web", "api"])
    return await connect(client, tenant, "github")


async def _age(runtime: Runtime, pk: int, seconds: int) -> None:
    """Pretend the installation token was minted `seconds` ago."""
    stored = await row(runtime, pk)
    config = {**stored.config, "refreshed_at": int(time.time()) - seconds}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))


async def test_the_proxy_sends_the_installation_token_never_the_callers_key(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    token = secrets_of(runtime, await row(runtime, pk))["access_token"]
    answer = await client.get(f"{tenant.base}/integrations/{pk}/proxy{REPOS}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["patchbay-proxy"] == "upstream"
    assert [r["name"] for r in answer.json()["repositories"]] == ["web", "api"]
    assert _auths(sandbox) == [f"Bearer {token}"]
    caller_key = tenant.headers["Authorization"].removeprefix("Bearer ")
    sent = [c for c in sandbox.state.calls if c.path.endswith(REPOS)][0]
    assert caller_key not in str(dict(sent.headers))
    assert token not in answer.text
    assert _mints(sandbox) == 1  # the install's mint only: a fresh token is used as it is


async def test_a_token_past_half_life_is_minted_once_for_concurrent_calls(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    old = secrets_of(runtime, await row(runtime, pk))["access_token"]
    await _age(runtime, pk, 2000)  # an hour's token, 33 minutes old: past half-life, not yet expiring
    answers = await asyncio.gather(
        *[
            client.get(f"{tenant.base}/integrations/{pk}/proxy{REPOS}", headers=tenant.headers)
            for _ in range(10)
        ]
    )
    assert [a.status_code for a in answers] == [200] * 10, answers[0].text
    assert _mints(sandbox) == 2
    new = secrets_of(runtime, await row(runtime, pk))["access_token"]
    assert new != old
    assert set(_auths(sandbox)) == {f"Bearer {new}"}


async def test_a_401_mints_once_and_retries_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    old = secrets_of(runtime, await row(runtime, pk))["access_token"]
    url = f"{tenant.base}/integrations/{pk}/proxy{REPOS}"
    sandbox.state.inject("github", "401", count=1, path_contains=REPOS)
    answer = await client.get(url, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert _mints(sandbox) == 2
    new = secrets_of(runtime, await row(runtime, pk))["access_token"]
    assert new != old
    assert _auths(sandbox) == [f"Bearer {old}", f"Bearer {new}"]

    # GitHub keeps refusing: one mint, one retry, then its 401 as it came.
    sandbox.state.inject("github", "401", count=5, path_contains=REPOS)
    refused = await client.get(url, headers=tenant.headers)
    assert refused.status_code == 401 and refused.headers["patchbay-proxy"] == "upstream"
    assert _mints(sandbox) == 3
    assert len(_auths(sandbox)) == 4


async def test_the_credentials_route_hands_over_the_installation_token(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    key = await factory.key(tenant.user, [SCOPE, "integration:read"])
    url = f"{tenant.base}/integrations/{pk}/credentials/"
    answer = await client.get(url, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    stored = await row(runtime, pk)
    assert (body["id"], body["kind"], body["auth_type"]) == (pk, "github", "oauth2")
    assert body["credentials"] == {
        "access_token": secrets_of(runtime, stored)["access_token"],
        "token_type": "Bearer",
    }
    assert body["expires_at"] is not None and body["expires_at"].endswith("Z")
    assert _mints(sandbox) == 1

    # Past half-life: minted anew before it is handed over.
    await _age(runtime, pk, 2000)
    again = await client.get(url, headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 200, again.text
    assert _mints(sandbox) == 2
    fresh = secrets_of(runtime, await row(runtime, pk))["access_token"]
    assert again.json()["credentials"]["access_token"] == fresh != body["credentials"]["access_token"]

    # The caller's own `*` key is not enough.
    assert (await client.get(url, headers=tenant.headers)).status_code == 403


async def test_an_uninstalled_app_is_asked_to_reconnect_and_nothing_leaks(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    stored = await row(runtime, pk)
    old = secrets_of(runtime, stored)["access_token"]
    github_sim.uninstall(sandbox.state, str(stored.config["installation_id"]))
    await _age(runtime, pk, 2000)
    key = await factory.key(tenant.user, [SCOPE, "integration:read"])
    answer = await client.get(
        f"{tenant.base}/integrations/{pk}/credentials/", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"type", "code", "detail", "attr"}
    assert "reconnect" in answer.json()["detail"].lower()
    assert old not in answer.text
    proxied = await client.get(f"{tenant.base}/integrations/{pk}/proxy{REPOS}", headers=tenant.headers)
    assert proxied.status_code == 400 and old not in proxied.text
    assert "patchbay-proxy" not in proxied.headers
    assert _auths(sandbox) == []  # nothing was sent to GitHub with a token it no longer honours


async def test_a_github_outage_while_minting_keeps_the_still_valid_token(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await _installed(client, tenant, sandbox)
    old = secrets_of(runtime, await row(runtime, pk))["access_token"]
    await _age(runtime, pk, 2000)
    sandbox.state.inject("github", "503", count=10, path_contains="/access_tokens")
    answer = await client.get(f"{tenant.base}/integrations/{pk}/proxy{REPOS}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert _auths(sandbox) == [f"Bearer {old}"]
