"""`POST …/connect_sessions/`: the token, its storage, kinds, `next`, `origin`, reconnects, scopes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from patchbay.models import MembershipLevel
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.conftest import SITE_URL
from tests.connect.helpers import create_session, sessions
from tests.support.factory import Factory, Tenant


async def test_a_session_is_a_hashed_single_link(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    created = await create_session(client, tenant, next="https://app.example/done")
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"token", "url", "expires_at"}
    token = body["token"]
    assert token.startswith("pcs_") and len(token) > 40
    assert body["url"] == f"{SITE_URL}/connect/{token}"
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=29) < expires - datetime.now(UTC) <= timedelta(minutes=30)
    (row,) = await sessions(runtime)
    # Only the hash is stored: the token itself is in no column.
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([getattr(row, c) for c in ("token_hash", "kinds", "next_url", "origin")])
    assert row.created_by_id == tenant.user.id and row.project_id == tenant.project.id
    assert row.next_url == "https://app.example/done" and row.used_at is None
    # Default kinds: every configured kind (the sandbox configures every OAuth kind).
    assert {"slack", "linear", "twilio", "databricks", "email"} <= set(row.kinds)
    again = await create_session(client, tenant)
    assert again.json()["token"] != token


async def test_the_deprecated_environments_path_creates_too(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    created = await client.post(
        f"/api/environments/{tenant.project.id}/connect_sessions/", json={}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text


async def test_kinds_are_checked(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    ok = await create_session(client, tenant, kinds=["twilio", "slack", "twilio"])
    assert ok.status_code == 201
    assert (await sessions(runtime))[0].kinds == ["twilio", "slack"]
    cases: list[tuple[Any, str]] = [
        (["nope"], '"nope" is not a valid choice.'),
        (["github"], "Kind not supported: github"),
        ([], "Name at least one kind, or leave kinds out for every configured kind."),
        ("slack", "Expected a list of items."),
    ]
    for kinds, detail in cases:
        refused = await create_session(client, tenant, kinds=kinds)
        assert refused.status_code == 400, (kinds, refused.text)
        assert refused.json()["detail"] == detail
        assert refused.json()["attr"] == "kinds"
    assert len(await sessions(runtime)) == 1


async def test_an_unconfigured_kind_is_refused_and_left_out(
    make_settings: Any, factory: Factory, database_url: str, sandbox: SandboxServer
) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    settings = make_settings(
        kind_overrides={"PATCHBAY_SLACK_CLIENT_ID": "", "PATCHBAY_SLACK_CLIENT_SECRET": ""}
    )
    runtime = build_runtime(settings)
    try:
        tenant = await Factory(runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url=SITE_URL) as c:
            refused = await create_session(c, tenant, kinds=["slack"])
            assert refused.status_code == 400
            assert refused.json() == {
                "type": "validation_error",
                "code": "invalid_input",
                "detail": "Kind not configured: slack",
                "attr": "kinds",
            }
            assert (await create_session(c, tenant)).status_code == 201
            (row,) = await sessions(runtime)
            assert "slack" not in row.kinds and "linear" in row.kinds
    finally:
        await runtime.close()


NEXT_ACCEPTED = [
    ("/done", "/done"),
    ("/settings/integrations?tab=slack", "/settings/integrations?tab=slack"),
    (None, "/"),
    ("https://app.example/connected", "https://app.example/connected"),
    ("https://APP.example/x", "https://APP.example/x"),
    (f"{SITE_URL}/back", f"{SITE_URL}/back"),
]
NEXT_REFUSED = [
    "//evil.example/steal",
    "https://evil.example/steal",
    "https://app.example.evil.example/",
    "https://user@app.example/",
    "http://app.example/",
    "javascript:alert(1)",
    "ftp://app.example/",
    "done",
    "/\\evil.example",
    "/ok\r\nSet-Cookie: x=1",
    "http://[::1",
]


@pytest.mark.parametrize(("given", "stored"), NEXT_ACCEPTED)
async def test_next_accepted(
    given: str | None,
    stored: str,
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
) -> None:
    body = {} if given is None else {"next": given}
    created = await create_session(client, tenant, **body)
    assert created.status_code == 201, created.text
    assert (await sessions(runtime))[0].next_url == stored


@pytest.mark.parametrize("given", NEXT_REFUSED)
async def test_next_refused(
    given: str, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    refused = await create_session(client, tenant, next=given)
    assert refused.status_code == 400, refused.text
    assert refused.json()["attr"] == "next"
    assert await sessions(runtime) == []


async def test_origin_must_be_an_allowed_origin(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    ok = await create_session(client, tenant, origin="https://app.example", next="/done")
    assert ok.status_code == 201
    assert (await sessions(runtime))[0].origin == "https://app.example"
    for origin in (
        "https://evil.example",
        "https://app.example/path",
        "app.example",
        "https://app.example?x",
    ):
        refused = await create_session(client, tenant, origin=origin)
        assert refused.status_code == 400, origin
        assert refused.json()["attr"] == "origin"
    assert len(await sessions(runtime)) == 1


async def test_reconnect_names_an_integration_of_the_project(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    mine = await factory.integration(tenant.project, "twilio", "AC1")
    other = await factory.tenant()
    theirs = await factory.integration(other.project, "twilio", "AC2")
    ok = await create_session(client, tenant, integration_id=mine.id)
    assert ok.status_code == 201
    (row,) = await sessions(runtime)
    assert row.integration_pk == mine.id and row.kinds == ["twilio"]
    refused = await create_session(client, tenant, integration_id=theirs.id)
    assert refused.status_code == 400 and refused.json()["attr"] == "integration_id"
    mismatch = await create_session(client, tenant, integration_id=mine.id, kinds=["slack"])
    assert mismatch.status_code == 400 and mismatch.json()["attr"] == "kinds"
    for huge in (2**31, 2**63, 0, -1):
        unknown = await create_session(client, tenant, integration_id=huge)
        assert unknown.status_code == 400 and unknown.json()["attr"] == "integration_id", huge
    not_int = await create_session(client, tenant, integration_id="1")
    assert not_int.status_code == 400 and not_int.json()["attr"] == "integration_id"
    member = await factory.member_of(tenant, level=MembershipLevel.MEMBER)
    forbidden = await create_session(client, member, integration_id=mine.id)
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "Reconnecting an existing integration requires project admin access."
    assert len(await sessions(runtime)) == 1


async def test_scopes_and_tenancy(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    reader = await factory.member_of(tenant, scopes=["integration:read"])
    refused = await create_session(client, reader)
    assert refused.status_code == 403 and "integration:write" in refused.json()["detail"]
    writer = await factory.member_of(tenant, scopes=["integration:write"])
    assert (await create_session(client, writer)).status_code == 201
    anonymous = await client.post(f"{tenant.base}/connect_sessions/", json={})
    assert anonymous.status_code == 401
    stranger = await factory.tenant()
    outside = await create_session(
        client, stranger.__class__(**{**stranger.__dict__, "project": tenant.project})
    )
    assert outside.status_code in (403, 404)
    current = await client.post("/api/projects/@current/connect_sessions/", json={}, headers=tenant.headers)
    assert current.status_code == 201
    rows = await sessions(runtime)
    assert [r.created_by_id for r in rows] == [writer.user.id, tenant.user.id]
