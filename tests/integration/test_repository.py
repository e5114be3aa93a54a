"""IntegrationRepository's tenant filter on every statement: the repository of one project reads,
finds, changes and deletes its own rows only — never another project's, of the same organization or
another — even when handed another project's primary key (services check first; this is the
second line)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

import patchbay.routing  # noqa: F401 - registers every change hook, the webhook outbox's included
from patchbay.integration import events
from patchbay.integration.repository import IntegrationRepository, UpsertValues
from patchbay.kit.pagination import PageParams
from patchbay.models import Integration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


async def stored(runtime: Runtime) -> dict[int, tuple[int, str, dict[str, object]]]:
    async with runtime.db.session() as session:
        rows = (
            await session.execute(
                select(Integration.id, Integration.project_id, Integration.errors, Integration.config)
            )
        ).all()
    return {pk: (project_id, errors, config) for pk, project_id, errors, config in rows}


async def test_every_statement_stays_in_its_project(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    sibling = await factory.project(tenant.organization)
    mine = await factory.integration(tenant.project, "twilio", "AC1", created_by=tenant.user)
    mine_slack = await factory.integration(tenant.project, "slack", "T1")
    kept = await factory.integration(tenant.project, "hubspot", "H1")
    # The same provider account connected by two other projects.
    theirs = await factory.integration(other.project, "twilio", "AC1", created_by=other.user)
    beside = await factory.integration(sibling, "twilio", "AC1")
    foreign = (theirs.id, beside.id)
    before = await stored(runtime)

    async with runtime.db.transaction() as session:
        repo = IntegrationRepository(session, tenant.project.id, tenant.user.id)
        readable = (await session.scalars(repo.readable_statement())).all()
        own = sorted([mine.id, mine_slack.id, kept.id])
        assert sorted(r.id for r in readable) == own
        assert {r.id: r.created_by_id for r in readable} == {
            mine.id: tenant.user.id,
            mine_slack.id: None,
            kept.id: None,
        }
        count, page = await repo.page(kind=None, params=PageParams(limit=10, offset=0))
        assert count == 3 and sorted(r["id"] for r in page) == own
        count, page = await repo.page(kind="twilio", params=PageParams(limit=10, offset=0))
        assert count == 1 and [r["id"] for r in page] == [mine.id]
        got = await repo.get(mine.id)
        assert got is not None and got["cb_email"] == tenant.user.email
        model = await repo.get_model(mine.id)
        assert model is not None and model.id == mine.id
        # The upsert's lookup is the project's own: the same account in two other projects is not
        # what it finds and overwrites.
        saved = await repo.upsert(upsert_values("twilio", "AC1", created_by_id=tenant.user.id))
        assert saved is not None and saved[0]["id"] == mine.id and saved[1] is False
        for pk in foreign:
            assert await repo.get(pk) is None
            assert await repo.get_model(pk) is None
            assert await repo.get_model(pk, for_update=True) is None
            await repo.update_fields(pk, errors="overwritten", config={"x": 1})
            await repo.delete(pk)
        await repo.update_fields(mine.id, errors="mine changed")
        await repo.delete(mine_slack.id)

    after = await stored(runtime)
    for pk in foreign:
        assert after[pk] == before[pk], "another project's row is untouched"
    assert after[mine.id][1] == "mine changed" and mine_slack.id not in after
    assert after[mine.id][2] == {"note": "upserted"}
    assert after[kept.id] == before[kept.id], "changing or deleting one row leaves its siblings"


def upsert_values(kind: str, integration_id: str | None, **overrides: Any) -> UpsertValues:
    values: dict[str, Any] = {
        "kind": kind,
        "integration_id": integration_id,
        "config": {"note": "upserted"},
        "sensitive_config": "encrypted",
        "created_by_id": None,
        "created_at": datetime.now(UTC),
        "may_overwrite": True,
        "health_status": "unknown",
    }
    return UpsertValues(**{**values, **overrides})


async def test_the_upsert_inserts_overwrites_or_refuses_within_the_project(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    existing = await factory.integration(tenant.project, "twilio", "AC1", {"note": "before"})
    other = await factory.tenant()
    theirs = await factory.integration(other.project, "twilio", "AC2", {"note": "theirs"})
    async with runtime.db.transaction() as session:
        repo = IntegrationRepository(session, tenant.project.id, tenant.user.id)
        # A row exists and overwriting is not allowed: nothing returned, nothing changed.
        assert await repo.upsert(upsert_values("twilio", "AC1", may_overwrite=False)) is None
        # Another project's account of the same kind: a new row here, theirs untouched.
        saved = await repo.upsert(upsert_values("twilio", "AC2"))
        assert saved is not None and saved[1] is True and saved[0]["id"] != theirs.id
        # NULL ids never collide: two inserts.
        first = await repo.upsert(upsert_values("hubspot", None))
        second = await repo.upsert(upsert_values("hubspot", None))
        assert first is not None and second is not None and first[1] and second[1]
        assert first[0]["id"] != second[0]["id"]
        overwritten = await repo.upsert(upsert_values("twilio", "AC1"))
        assert overwritten is not None and overwritten[0]["id"] == existing.id
        assert overwritten[1] is False and overwritten[0]["config"] == {"note": "upserted"}
        assert overwritten[0]["created_at"] == existing.created_at
        # The overwrite leaves health alone and answers the row's own (the service compares).
        assert overwritten[0]["health_status"] == existing.health_status
    after = await stored(runtime)
    assert after[theirs.id] == (other.project.id, "", {"note": "theirs"})
    assert after[saved[0]["id"]][0] == tenant.project.id


async def test_one_statement_changes_stay_in_the_project_and_wait_for_the_session(
    runtime: Runtime, tenant: Tenant, factory: Factory, backend: str
) -> None:
    """save_alone / delete_alone (PostgreSQL): the project's own rows only, and never while the
    request's session holds a write of its own (that write must commit with the row)."""
    other = await factory.tenant()
    theirs = await factory.integration(other.project, "twilio", "AC9", {"note": "theirs"})
    companions = events.change_companions()
    assert companions is not None
    async with runtime.db.session() as session:
        repo = IntegrationRepository(session, tenant.project.id, tenant.user.id)
        if backend == "sqlite":
            assert not repo.can_save_alone(), "SQLite keeps the session's path"
            return
        assert repo.can_save_alone()
        session.add(Integration(project_id=tenant.project.id, kind="twilio", integration_id="pending"))
        assert not repo.can_save_alone(), "an object waiting in the unit of work"
        session.expunge_all()
        await session.execute(select(1))
        assert not repo.can_save_alone(), "a transaction open on the session"
        await session.rollback()
        assert repo.can_save_alone()
        values = upsert_values("twilio", "AC9", created_by_id=tenant.user.id)
        saved = await repo.save_alone(companions, _no_event(companions), values)
        assert saved is not None and saved[1] is True and saved[0]["id"] != theirs.id
        # Another project's primary key is nobody's here: nothing deleted.
        assert (
            await repo.delete_alone(companions, theirs.id, user_id=tenant.user.id, may_delete_any=True)
            is None
        )
        # Neither admin nor creator: nothing deleted.
        assert await repo.delete_alone(companions, saved[0]["id"], user_id=-1, may_delete_any=False) is None
        gone = await repo.delete_alone(
            companions, saved[0]["id"], user_id=tenant.user.id, may_delete_any=False
        )
        assert gone is not None and gone["sensitive_config"] == "encrypted"
    after = await stored(runtime)
    assert after[theirs.id] == (other.project.id, "", {"note": "theirs"})
    assert saved[0]["id"] not in after


def _no_event(companions: tuple[events.ChangeCompanion, ...]) -> dict[str, Any]:
    new = events.NewIntegration(0, None, {"id": 0, "kind": "twilio"})
    params: dict[str, Any] = {}
    for companion in companions:
        params.update(companion.params(new))
    return params
