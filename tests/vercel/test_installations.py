"""PUT/GET/DELETE /api/vercel/v1/installations/{id}: Vercel's OIDC token checked against the
sandbox's JWKS, and what a new or repeated installation leaves in the database."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from patchbay.models import Integration, OrganizationIntegration, OrganizationMembership, User
from patchbay.models import Organization as Org
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory
from tests.vercel.helpers import client_with, rows, vercel_project_integrations, vercel_settings

SECRET = "vercel-SENTINEL-install-token"


def _body(email: str = "Ann@Acme.example", name: str | None = "Acme", token: str = SECRET) -> dict[str, Any]:
    return {
        "scopes": ["read-write:integration-resource"],
        "acceptedPolicies": {"toc": "2024-02-28T10:00:00Z"},
        "credentials": {"access_token": token, "token_type": "Bearer"},
        "account": {
            "name": name,
            "url": "https://vercel.com/acme",
            "contact": {"email": email, "name": "Ann"},
        },
    }


def _headers(token: str, auth: str | None = "user") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if auth:
        headers["X-Vercel-Auth"] = auth
    return headers


def _url(installation_id: str) -> str:
    return f"/api/vercel/v1/installations/{installation_id}"


async def _put(
    client: httpx.AsyncClient, sandbox: SandboxServer, installation_id: str, **kw: Any
) -> httpx.Response:
    token = sim.mint_oidc_token(sandbox.state, installation_id=installation_id)
    return await client.put(_url(installation_id), json=_body(**kw), headers=_headers(token))


async def test_new_installation_creates_organization_owner_and_encrypted_credentials(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    installation_id = sim.new_installation_id()
    response = await _put(client, sandbox, installation_id)
    assert response.status_code == 204, response.text

    (row,) = await rows(runtime, OrganizationIntegration)
    assert row.kind == "vercel" and row.integration_id == installation_id
    assert row.config["account"]["contact"]["email"] == "Ann@Acme.example"
    assert row.config["scopes"] == ["read-write:integration-resource"]
    assert SECRET not in str(row.config) and SECRET not in row.sensitive_config
    assert runtime.keyring.decrypt_json(row.sensitive_config) == {
        "credentials": {"access_token": SECRET, "token_type": "Bearer"}
    }
    (org,) = await rows(runtime, Org, Org.id == row.organization_id)
    assert org.name == "Acme"
    (user,) = await rows(runtime, User)
    assert user.email == "ann@acme.example" and row.created_by_id == user.id
    (membership,) = await rows(
        runtime, OrganizationMembership, OrganizationMembership.organization_id == org.id
    )
    assert membership.user_id == user.id and membership.level == 15
    assert list(row.config["user_mappings"].values()) == [user.id]

    # Vercel's system token reads it back; nothing secret is answered.
    system = sim.mint_oidc_token(sandbox.state, installation_id=installation_id, auth="system")
    got = await client.get(_url(installation_id), headers=_headers(system, "system"))
    assert got.status_code == 200 and got.json() == {}
    assert SECRET not in caplog.text


async def test_repeated_put_updates_in_place(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    installation_id = sim.new_installation_id()
    assert (await _put(client, sandbox, installation_id)).status_code == 204
    (first,) = await rows(runtime, OrganizationIntegration)

    again = await _put(client, sandbox, installation_id, name="Acme Renamed", token="vercel-SENTINEL-second")
    assert again.status_code == 204
    (second,) = await rows(runtime, OrganizationIntegration)
    assert second.id == first.id and second.organization_id == first.organization_id
    assert second.config["account"]["name"] == "Acme Renamed"
    assert second.config["user_mappings"] == first.config["user_mappings"]
    assert runtime.keyring.decrypt_json(second.sensitive_config)["credentials"]["access_token"] == (
        "vercel-SENTINEL-second"
    )
    assert len(await rows(runtime, Org)) == 1 and len(await rows(runtime, User)) == 1


async def test_existing_user_becomes_owner_of_the_new_organization(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer, factory: Factory
) -> None:
    existing = await factory.tenant()
    installation_id = sim.new_installation_id()
    response = await _put(client, sandbox, installation_id, email=existing.user.email.upper(), name=None)
    assert response.status_code == 204
    (row,) = await rows(runtime, OrganizationIntegration)
    assert row.created_by_id == existing.user.id
    assert "user_mappings" not in row.config  # only recorded for users the installation created
    (org,) = await rows(runtime, Org, Org.id == row.organization_id)
    assert org.name == f"Vercel Installation {installation_id}"
    (membership,) = await rows(
        runtime,
        OrganizationMembership,
        OrganizationMembership.organization_id == org.id,
        OrganizationMembership.user_id == existing.user.id,
    )
    assert membership.level == 15
    assert len(await rows(runtime, User)) == 1


async def _refused(
    client: httpx.AsyncClient, installation_id: str, headers: dict[str, str]
) -> httpx.Response:
    response = await client.put(_url(installation_id), json=_body(), headers=headers)
    return response


async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    installation_id = sim.new_installation_id()
    state = sandbox.state
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cases = {
        "forged": sim.mint_oidc_token(state, installation_id=installation_id, private_key_pem=other_pem),
        "expired": sim.mint_oidc_token(state, installation_id=installation_id, expires_in=-120),
        "audience": sim.mint_oidc_token(state, installation_id=installation_id, audience="someone-else"),
        "issuer": sim.mint_oidc_token(state, installation_id=installation_id, issuer="https://evil.example"),
        "unknown kid": sim.mint_oidc_token(state, installation_id=installation_id, kid="nobody"),
        "hs256": jwt.encode(
            {"installation_id": installation_id}, "s" * 40, algorithm="HS256", headers={"kid": "x"}
        ),
        "garbage": "not-a-jwt",
    }
    for case, token in cases.items():
        response = await _refused(client, installation_id, _headers(token))
        assert response.status_code == 401, case
        assert response.json() == {
            "type": "authentication_error",
            "code": "authentication_failed",
            "detail": "Invalid user authentication token",
            "attr": None,
        }, case
    missing = await client.put(_url(installation_id), json=_body())
    assert missing.status_code == 401
    assert missing.json()["detail"] == "Missing Token for Vercel request"
    good = sim.mint_oidc_token(state, installation_id=installation_id)
    bad_header = await _refused(client, installation_id, _headers(good, "robot"))
    assert bad_header.status_code == 401
    assert await rows(runtime, OrganizationIntegration) == []


async def test_permissions_of_the_token(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    installation_id = sim.new_installation_id()
    state = sandbox.state
    other = sim.mint_oidc_token(state, installation_id=sim.new_installation_id())
    mismatch = await _refused(client, installation_id, _headers(other))
    assert mismatch.status_code == 403
    assert mismatch.json()["detail"] == "Installation ID mismatch"

    reader = sim.mint_oidc_token(state, installation_id=installation_id, user_role="USER")
    role = await _refused(client, installation_id, _headers(reader))
    assert role.status_code == 403
    assert role.json()["detail"] == "Action 'update' requires ADMIN role. Current role: USER"

    system = sim.mint_oidc_token(state, installation_id=installation_id, auth="system")
    wrong_type = await _refused(client, installation_id, _headers(system, "system"))
    assert wrong_type.status_code == 403
    assert (
        wrong_type.json()["detail"]
        == "Auth type 'system' not allowed for this endpoint. Supported types: user"
    )
    assert await rows(runtime, OrganizationIntegration) == []

    # Without X-Vercel-Auth the type comes from the signed claims.
    inferred = await client.put(
        _url(installation_id),
        json=_body(),
        headers=_headers(sim.mint_oidc_token(state, installation_id=installation_id), None),
    )
    assert inferred.status_code == 204


async def test_installation_id_format_and_body(client: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    token = sim.mint_oidc_token(sandbox.state, installation_id="icfg_short")
    response = await client.put(_url("icfg_short"), json=_body(), headers=_headers(token))
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid installation_id format."
    assert response.json()["attr"] == "installation_id"

    installation_id = sim.new_installation_id()
    token = sim.mint_oidc_token(sandbox.state, installation_id=installation_id)
    body = _body()
    del body["credentials"]
    missing = await client.put(_url(installation_id), json=body, headers=_headers(token))
    assert missing.status_code == 400 and missing.json()["attr"] == "credentials"
    bad_email = await client.put(_url(installation_id), json=_body(email="nope"), headers=_headers(token))
    assert bad_email.status_code == 400 and bad_email.json()["attr"] == "account__contact__email"


async def test_jwks_is_cached_and_refetched_for_a_new_key(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    installation_id = sim.new_installation_id()
    for _ in range(3):
        assert (await _put(client, sandbox, installation_id)).status_code == 204
    assert sandbox.state.count_calls("vercel", sim.JWKS_PATH) == 1

    sim.rotate_signing_key(sandbox.state)  # Vercel rotates: tokens now carry a kid we have not seen
    assert (await _put(client, sandbox, installation_id)).status_code == 204
    assert sandbox.state.count_calls("vercel", sim.JWKS_PATH) == 2

    # Made-up key ids do not make us fetch again and again.
    for _ in range(3):
        token = sim.mint_oidc_token(sandbox.state, installation_id=installation_id, kid="made-up")
        assert (await _refused(client, installation_id, _headers(token))).status_code == 401
    assert sandbox.state.count_calls("vercel", sim.JWKS_PATH) <= 3


async def test_jwks_outage_is_reported(client: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    installation_id = sim.new_installation_id()
    sandbox.state.inject("vercel", "500", count=1, path_contains=sim.JWKS_PATH)
    response = await _put(client, sandbox, installation_id)
    assert response.status_code == 502
    assert response.json()["type"] == "server_error"
    assert (await _put(client, sandbox, installation_id)).status_code == 204


async def test_delete_installation(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer, factory: Factory
) -> None:
    installation_id = sim.new_installation_id()
    assert (await _put(client, sandbox, installation_id)).status_code == 204
    (row,) = await rows(runtime, OrganizationIntegration)
    (org,) = await rows(runtime, Org, Org.id == row.organization_id)
    project = await factory.project(org)
    await factory.integration(project, kind="vercel", integration_id=str(project.id))
    twilio = await factory.integration(project, kind="twilio")

    system = sim.mint_oidc_token(sandbox.state, installation_id=installation_id, auth="system")
    deleted = await client.delete(_url(installation_id), headers=_headers(system, "system"))
    assert deleted.status_code == 200 and deleted.json() == {"finalized": True}
    assert await rows(runtime, OrganizationIntegration) == []
    assert await vercel_project_integrations(runtime, org) == []
    assert [r.id for r in await rows(runtime, Integration)] == [twilio.id]

    gone = await client.get(_url(installation_id), headers=_headers(system, "system"))
    assert gone.status_code == 404 and gone.json()["detail"] == "Installation not found"


async def test_concurrent_first_puts_create_one_organization(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    import asyncio

    installation_id = sim.new_installation_id()
    responses = await asyncio.gather(*[_put(client, sandbox, installation_id) for _ in range(4)])
    assert [r.status_code for r in responses] == [204] * 4
    assert len(await rows(runtime, OrganizationIntegration)) == 1
    assert len(await rows(runtime, Org)) == 1


@pytest.mark.skipif(not os.environ.get("PATCHBAY_TEST_REDIS_URL"), reason="needs PATCHBAY_TEST_REDIS_URL")
async def test_jwks_cache_is_shared_through_redis(
    runtime: Runtime, make_settings: Any, sandbox: SandboxServer, redis_prefix: str
) -> None:
    """Two processes (two runtimes on one Redis) fetch Vercel's keys once between them."""
    shared = f"{redis_prefix}jwks-{sim.new_installation_id()}:"
    installation_id = sim.new_installation_id()
    for _ in range(2):
        settings = vercel_settings(make_settings, sandbox, redis=True, redis_key_prefix=shared)
        async with client_with(settings) as (client, _own):
            assert (await _put(client, sandbox, installation_id)).status_code == 204
    assert sandbox.state.count_calls("vercel", sim.JWKS_PATH) == 1


async def test_a_system_token_without_the_header_is_taken_as_system(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    installation_id = sim.new_installation_id()
    system = sim.mint_oidc_token(sandbox.state, installation_id=installation_id, auth="system")
    response = await client.put(_url(installation_id), json=_body(), headers=_headers(system, None))
    assert response.status_code == 403, response.text
    assert (
        response.json()["detail"] == "Auth type 'system' not allowed for this endpoint. Supported types: user"
    )
    assert await rows(runtime, OrganizationIntegration) == []
