"""Key rotation over every encrypted column: each value ends up under the new key only and means the
same; a run interrupted between batches and started again completes; a value someone changes
between a batch's read and its write is kept (the newer-value guard)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import String, Text, select, update

from patchbay.account.rotation import BATCH, ENCRYPTED_COLUMNS, rotate_encryption
from patchbay.kit.crypto import KeyRing, UndecryptableSecret
from patchbay.models import (
    Base,
    Integration,
    LinkSession,
    OAuthState,
    OrganizationIntegration,
    WebhookEndpoint,
)
from patchbay.runtime import Runtime, build_runtime
from tests.support.factory import Factory, Tenant

FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte and a timestamp
EVERY_COLUMN = {
    ("integrations", "sensitive_config"),
    ("organization_integrations", "sensitive_config"),
    ("oauth_states", "secret"),
    ("link_sessions", "payload"),
    ("webhook_endpoints", "secret"),
    ("webhook_endpoints (previous secrets)", "previous_secret"),
}
TABLES = {"integrations", "organization_integrations", "oauth_states", "link_sessions", "webhook_endpoints"}


@dataclass
class Keys:
    old: str
    new: str

    def ring(self, *keys: str) -> KeyRing:
        return KeyRing(list(keys))


@pytest.fixture
def keys() -> Keys:
    return Keys(Fernet.generate_key().decode(), Fernet.generate_key().decode())


@pytest.fixture
async def rotating(make_settings: Any, keys: Keys, runtime: Runtime) -> AsyncIterator[Runtime]:
    """A runtime whose ring is [new, old] (the `runtime` fixture empties the tables afterwards)."""
    rt = build_runtime(make_settings(encryption_keys=f"{keys.new},{keys.old}"))
    yield rt
    await rt.close()


async def seed_every_column(
    runtime: Runtime, tenant: Tenant, old: KeyRing, n: int
) -> dict[tuple[str, str], dict[str, Any]]:
    """n rows in each encrypted column, under the old key; returns the plaintext by (table, key)."""
    plain: dict[tuple[str, str], dict[str, Any]] = {}
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        for i in range(n):
            value = {"auth_token": f"integration-{i}", "n": i}
            row = Integration(
                project_id=tenant.project.id,
                kind="twilio",
                integration_id=f"AC{i}",
                config={},
                sensitive_config=old.encrypt_json(value),
                errors="",
            )
            session.add(row)
            await session.flush()
            plain[("integrations", str(row.id))] = value
            value = {"credentials": {"access_token": f"vercel-{i}"}}
            org_row = OrganizationIntegration(
                organization_id=tenant.organization.id,
                kind="vercel",
                integration_id=f"icfg_{i}",
                config={},
                sensitive_config=old.encrypt_json(value),
            )
            session.add(org_row)
            await session.flush()
            plain[("organization_integrations", str(org_row.id))] = value
            token = secrets.token_urlsafe(16)
            value = {"code_verifier": f"verifier-{i}"}
            session.add(
                OAuthState(
                    token=token,
                    kind="linear",
                    user_id=tenant.user.id,
                    project_id=tenant.project.id,
                    next_url="/",
                    secret=old.encrypt_json(value),
                    created_at=now,
                    expires_at=now + timedelta(minutes=10),
                )
            )
            plain[("oauth_states", token)] = value
            token = secrets.token_urlsafe(16)
            value = {"installation": f"icfg_{i}", "user": i}
            session.add(
                LinkSession(
                    token=token,
                    kind="vercel",
                    payload=old.encrypt_json(value),
                    expires_at=now + timedelta(minutes=10),
                )
            )
            plain[("link_sessions", token)] = value
            current, previous = {"secret": f"whsec_current{i}"}, {"secret": f"whsec_previous{i}"}
            endpoint = WebhookEndpoint(
                project_id=tenant.project.id,
                url="https://hooks.example.com/",
                secret=old.encrypt_json(current),
                previous_secret=old.encrypt_json(previous),
                previous_secret_expires_at=now + timedelta(hours=24),
            )
            session.add(endpoint)
            await session.flush()
            plain[("webhook_endpoints.secret", str(endpoint.id))] = current
            plain[("webhook_endpoints.previous_secret", str(endpoint.id))] = previous
        # Rows without a secret stay as they are.
        session.add(
            Integration(
                project_id=tenant.project.id,
                kind="twilio",
                integration_id="ACempty",
                config={},
                sensitive_config="",
                errors="",
            )
        )
    return plain


async def stored_tokens(runtime: Runtime) -> dict[tuple[str, str], str]:
    """Every value of every text column, in every table, that is a Fernet token: (table, column)."""
    found: dict[tuple[str, str], str] = {}
    async with runtime.db.session() as session:
        for table in Base.metadata.sorted_tables:
            pk = next(iter(table.primary_key.columns))
            for column in table.columns:
                if not isinstance(column.type, Text | String):
                    continue
                for key, value in (await session.execute(select(pk, column))).all():
                    if isinstance(value, str) and value.startswith(FERNET_PREFIX):
                        found[(f"{table.name}.{column.name}", str(key))] = value
    return found


def assert_all_under(
    tokens: dict[tuple[str, str], str], keys: Keys, plain: dict[tuple[str, str], dict[str, Any]]
) -> None:
    new_only, old_only = keys.ring(keys.new), keys.ring(keys.old)
    assert {where.split(".")[0] for where, _ in tokens} == TABLES
    for (where, key), token in tokens.items():
        meant = (
            plain.get((where, key)) or plain[(where.split(".")[0], key)]
        )  # by column where a table has two
        assert new_only.decrypt_json(token) == meant, where
        with pytest.raises(UndecryptableSecret):
            old_only.decrypt_json(token)


def test_the_rotation_lists_every_encrypted_column() -> None:
    assert {(label, column.name) for label, _, column in ENCRYPTED_COLUMNS} == EVERY_COLUMN


async def test_every_encrypted_column_is_rotated(rotating: Runtime, factory: Factory, keys: Keys) -> None:
    tenant = await factory.tenant()
    plain = await seed_every_column(rotating, tenant, keys.ring(keys.old), 3)
    before = await stored_tokens(rotating)
    assert {where for where, _ in before} == {f"{t.split(' ')[0]}.{c}" for t, c in EVERY_COLUMN}, (
        "seeded every column"
    )
    report = await rotate_encryption(rotating, lambda _: None)
    assert (report.examined, report.rotated, report.unreadable) == (18, 18, 0)
    after = await stored_tokens(rotating)
    assert after.keys() == before.keys()
    assert_all_under(after, keys, plain)
    again = await rotate_encryption(rotating, lambda _: None)
    assert (again.examined, again.rotated) == (18, 0)
    assert await stored_tokens(rotating) == after, "a second run changes nothing"


class Interrupted(Exception):
    pass


async def test_a_run_interrupted_between_batches_completes_when_started_again(
    rotating: Runtime, factory: Factory, keys: Keys
) -> None:
    tenant = await factory.tenant()
    plain = await seed_every_column(rotating, tenant, keys.ring(keys.old), BATCH + 50)
    batches: list[str] = []

    def stop_after_the_first_batch(message: str) -> None:
        batches.append(message)
        raise Interrupted(message)

    with pytest.raises(Interrupted):
        await rotate_encryption(rotating, stop_after_the_first_batch)
    assert batches == [f"integrations: {BATCH}/{BATCH + 50} rows checked"]
    current = keys.ring(keys.new)
    halfway = await stored_tokens(rotating)
    done = [where for where, token in halfway.items() if current.is_current(token)]
    assert len(done) == BATCH and {w for w, _ in done} == {"integrations.sensitive_config"}
    report = await rotate_encryption(rotating, lambda _: None)
    assert report.rotated == len(plain) - BATCH and report.unreadable == 0
    assert_all_under(await stored_tokens(rotating), keys, plain)


async def test_a_value_changed_between_read_and_write_is_kept(
    rotating: Runtime, factory: Factory, keys: Keys
) -> None:
    tenant = await factory.tenant()
    plain = await seed_every_column(rotating, tenant, keys.ring(keys.old), 2)
    async with rotating.db.session() as session:
        stmt = select(Integration.id).where(Integration.sensitive_config != "").order_by(Integration.id)
        first_id, second_id = (await session.scalars(stmt)).all()
    newer = {"auth_token": "changed-while-rotating"}
    # Written by a process that still encrypts with the old key: the run must not overwrite it.
    newer_token = keys.ring(keys.old).encrypt_json(newer)

    async def change_a_row(table: str, batch_keys: list[Any]) -> None:
        if table != "integrations":
            return
        assert batch_keys == [first_id, second_id]
        async with rotating.db.transaction() as other:
            await other.execute(
                update(Integration).where(Integration.id == second_id).values(sensitive_config=newer_token)
            )

    report = await rotate_encryption(rotating, lambda _: None, before_write=change_a_row)
    assert report.rotated == 11 and report.examined == 12, "the changed row was not written"
    async with rotating.db.session() as session:
        stored = dict((await session.execute(select(Integration.id, Integration.sensitive_config))).all())
    assert stored[second_id] == newer_token, "the newer value survived the rotation"
    assert keys.ring(keys.new).decrypt_json(stored[first_id]) == plain[("integrations", str(first_id))]
    # The next run rotates the newer value too, keeping its meaning.
    plain[("integrations", str(second_id))] = newer
    assert (await rotate_encryption(rotating, lambda _: None)).rotated == 1
    assert_all_under(await stored_tokens(rotating), keys, plain)
