"""Push identity verification on the push kinds (`apns`, `firebase`): setting it needs a project
admin (refused before anything is built or sent, on create and on reconnect), it is stored in config
in a checked shape, and a private key pasted where a public one belongs is refused, never shown."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from patchbay.providers.apns import simulator as apns
from patchbay.providers.google_cloud.simulator import add_service_account
from patchbay.providers.push_identity import ADMIN_ONLY, KEYS_NEEDED, KEYS_SHAPE
from patchbay.sandbox.server import SandboxServer
from tests.providers.credential_kinds import assert_envelope, create
from tests.support.factory import Factory, Tenant
from tests.support.kinds import refusal

TEAM, BUNDLE = "TEAM123456", "com.example.app"


def public_pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def apns_config(sandbox: SandboxServer, **extra: Any) -> dict[str, Any]:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    return {"signing_key": pem, "key_id": key_id, "team_id_apple": TEAM, "bundle_id": BUNDLE, **extra}


def firebase_config(sandbox: SandboxServer, **extra: Any) -> dict[str, Any]:
    return {"key_info": add_service_account(sandbox.state), **extra}


CONFIGS = {"apns": apns_config, "firebase": firebase_config}
SIMULATOR = {"apns": "apns", "firebase": "google-cloud"}


@pytest.mark.parametrize("kind", sorted(CONFIGS))
async def test_an_admin_sets_it_and_it_is_stored_in_config(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, kind: str
) -> None:
    ec_key, ed_key = ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()
    # A key pasted with blank lines around it is kept in its plain PEM form.
    keys = ["\n" + public_pem(ec_key) + "\n", public_pem(ed_key)]
    config = CONFIGS[kind](sandbox, push_identity_verification=True, push_identity_public_keys=keys)
    response = await create(client, tenant, kind, config)
    assert response.status_code == 201, response.text
    stored = response.json()["config"]
    assert stored["push_identity_verification"] is True
    assert stored["push_identity_public_keys"] == [public_pem(ec_key), public_pem(ed_key)]
    listed = (
        await client.get(f"{tenant.base}/integrations/{response.json()['id']}/", headers=tenant.headers)
    ).json()
    assert listed["config"]["push_identity_public_keys"] == stored["push_identity_public_keys"]


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize(
    "fields",
    [{"push_identity_verification": False}, {"push_identity_public_keys": []}],
    ids=["verification", "keys"],
)
async def test_a_member_who_is_not_admin_is_refused_before_anything_is_sent(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, kind: str,
    fields: dict[str, Any],
) -> None:  # fmt: skip
    member = await factory.member_of(tenant)
    response = await create(client, member, kind, CONFIGS[kind](sandbox, **fields))
    assert_envelope(response, 403, ADMIN_ONLY)
    assert response.json()["code"] == "permission_denied"
    assert sandbox.state.count_calls(SIMULATOR[kind]) == 0
    # Even with credentials that would not pass: the permission is checked first.
    broken = await create(client, member, kind, {**fields})
    assert_envelope(broken, 403, ADMIN_ONLY)


async def test_a_member_may_connect_without_it_but_not_reconnect_with_it(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    member = await factory.member_of(tenant)
    config = apns_config(sandbox)
    made = await create(client, member, "apns", config)
    assert made.status_code == 201, made.text
    again = await create(client, member, "apns", {**config, "push_identity_verification": False})
    assert_envelope(again, 403, ADMIN_ONLY)
    row = (
        await client.get(f"{tenant.base}/integrations/{made.json()['id']}/", headers=tenant.headers)
    ).json()
    assert "push_identity_verification" not in row["config"]
    # The admin's reconnect sets it on the same row.
    admin = await create(client, tenant, "apns", {**config, "push_identity_verification": False})
    assert admin.status_code == 201 and admin.json()["id"] == made.json()["id"]
    assert admin.json()["config"]["push_identity_verification"] is False


def _private_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize(
    ("fields", "detail", "attr"),
    [
        ({"push_identity_verification": "yes"}, "Must be a valid boolean.", "push_identity_verification"),
        ({"push_identity_public_keys": "one key"}, KEYS_SHAPE, "push_identity_public_keys"),
        ({"push_identity_public_keys": [1]}, KEYS_SHAPE, "push_identity_public_keys"),
        ({"push_identity_public_keys": ["k"] * 11}, KEYS_SHAPE, "push_identity_public_keys"),
        (
            {"push_identity_public_keys": ["not a key"]},
            "Push identity public key 1 is not a PEM public key.",
            "push_identity_public_keys",
        ),
        (
            {"push_identity_public_keys": ["PRIVATE"]},
            "Push identity public key 1 is not a PEM public key.",
            "push_identity_public_keys",
        ),
        ({"push_identity_verification": True}, KEYS_NEEDED, "push_identity_public_keys"),
        (
            {"push_identity_verification": True, "push_identity_public_keys": []},
            KEYS_NEEDED,
            "push_identity_public_keys",
        ),
    ],
)
async def test_each_bad_shape_has_its_message(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, kind: str,
    fields: dict[str, Any], detail: str, attr: str,
) -> None:  # fmt: skip
    private = _private_pem()
    if fields.get("push_identity_public_keys") == ["PRIVATE"]:
        fields = {"push_identity_public_keys": [private]}
    response = await create(client, tenant, kind, CONFIGS[kind](sandbox, **fields))
    assert response.json() == refusal(detail, attr)
    assert "PRIVATE KEY" not in response.text
    assert sandbox.state.count_calls(SIMULATOR[kind]) == 0


async def test_a_dsa_key_is_not_a_push_identity_key(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    from cryptography.hazmat.primitives.asymmetric import dsa

    dsa_pem = public_pem(dsa.generate_private_key(key_size=1024))
    rsa_pem = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    response = await create(
        client, tenant, "apns", apns_config(sandbox, push_identity_public_keys=[rsa_pem, dsa_pem])
    )
    assert response.json() == refusal(
        "Push identity public key 2 must be an EC, RSA or Ed25519 key.", "push_identity_public_keys"
    )
