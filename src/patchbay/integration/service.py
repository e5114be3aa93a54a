"""Rules of project integrations: listing, the create-as-upsert, retrieval, deletion, secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

from patchbay.account.user_basic import created_by
from patchbay.integration import events
from patchbay.integration.display_name import display_name
from patchbay.integration.health import HEALTHY, UNKNOWN, health_object, set_health
from patchbay.integration.kind_names import DEPRECATED_KINDS, known_kinds
from patchbay.integration.kinds import BuiltIntegration, builder_for
from patchbay.integration.repository import IntegrationRepository, UpsertValues
from patchbay.kit.db import Row
from patchbay.kit.errors import NotFound, PermissionDenied, ValidationError
from patchbay.kit.pagination import PageParams
from patchbay.models import Integration
from patchbay.providers.catalog import get_provider
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext

_slack = get_provider("slack")
SLACK_REQUESTS_FILES_WRITE = _slack is not None and "files:write" in _slack.scope.split(",")


def serialize(row: Row, creators: dict[int, dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The API object of a row. `creators` shares one `created_by` object per creator across a page
    (a page usually has a handful of creators for dozens of rows)."""
    config = row["config"] if row["config"] is not None else {}
    creator_id = row["created_by_id"]
    if creators is None or creator_id is None:
        creator = created_by(row)
    elif creator_id in creators:
        creator = creators[creator_id]
    else:
        creator = creators[creator_id] = created_by(row)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "config": config,
        "created_at": row["created_at"],  # rendered by JSONResponse, in C
        "created_by": creator,
        "errors": row["errors"] or "",
        "display_name": display_name(
            row["kind"], row["integration_id"], config if isinstance(config, dict) else {}
        ),
        # PostHog's newest fields. Slack: whether the connection asks for files:write. GitHub App
        # installations: whether their token can still be minted (`installation_shared` stays null:
        # no row here reads another project's rows). Null for every other kind, as in PostHog.
        "files_write_requestable": row["kind"] == "slack" and SLACK_REQUESTS_FILES_WRITE,
        "installation_shared": None,
        "installation_status": (
            ("unavailable" if row["errors"] else "connected") if row["kind"] == "github" else None
        ),
        # Patchbay's own (CONTRACT §6.3): read from the row's columns, no query of its own.
        "health": health_object(row),
    }


@dataclass(frozen=True)
class SavedIntegration:
    """A saved integration: its id, the object the API answers, and the row as stored (secrets
    encrypted), built on first use: an ORM object costs about 14 µs, and a create through the API
    answers without one."""

    id: int
    answer: dict[str, Any]
    stored: Callable[[], Integration]

    @cached_property
    def row(self) -> Integration:
        return self.stored()


def repository(ctx: ProjectContext) -> IntegrationRepository:
    return IntegrationRepository(ctx.session, ctx.project.id, ctx.user.id)


def read_secrets(runtime: Runtime, row: Integration) -> dict[str, Any]:
    return runtime.keyring.decrypt_json(row.sensitive_config)


def encrypt_secrets(runtime: Runtime, secrets: dict[str, Any]) -> str:
    return runtime.keyring.encrypt_json(secrets)


KNOWN_KINDS = frozenset(known_kinds())


def validate_kind_filter(kind: str | None) -> str | None:
    if kind is None or kind == "":
        return None
    if kind not in KNOWN_KINDS:
        raise ValidationError(
            f"Select a valid choice. {kind} is not one of the available choices.",
            code="invalid_choice",
            attr="kind",
        )
    return kind


async def list_integrations(
    ctx: ProjectContext, params: PageParams, kind: str | None
) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository(ctx).page(kind=validate_kind_filter(kind), params=params)
    creators: dict[int, dict[str, Any] | None] = {}
    return count, [serialize(r, creators) for r in rows]


async def get_integration(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    row = await repository(ctx).get(pk)
    if row is None:
        raise NotFound()
    return serialize(row)


async def get_integration_model(ctx: ProjectContext, pk: int) -> Integration:
    """The row behind `{id}` in the caller's project (404 otherwise)."""
    row = await repository(ctx).get_model(pk)
    if row is None:
        raise NotFound()
    return row


async def get_integration_for_call(ctx: ProjectContext, pk: int) -> Integration:
    """The row behind `{id}` in the caller's project (404 otherwise) with its credentials, read in one
    statement and detached: for a call to the provider that writes nothing through it (the proxy)."""
    row = await repository(ctx).get_for_call(pk, ctx.runtime.integration_cache)
    if row is None:
        raise NotFound()
    return row


def _caller_as_creator(ctx: ProjectContext) -> dict[str, Any]:
    """The CREATED_BY_COLUMNS of the caller: a saved row's creator is always who saved it."""
    user = ctx.user
    return {
        "cb_uuid": user.uuid,
        "cb_distinct_id": user.distinct_id,
        "cb_first_name": user.first_name,
        "cb_last_name": user.last_name,
        "cb_email": user.email,
        "cb_is_email_verified": user.is_email_verified,
    }


async def save_integration(ctx: ProjectContext, kind: str, built: BuiltIntegration) -> Integration:
    """Upsert on (project, kind, integration_id); the row as stored (see `save`)."""
    return (await save(ctx, kind, built)).row


def _stored_row(ctx: ProjectContext, values: Row, secrets: str) -> Integration:
    """The saved row as the after-commit hooks and callers take it (secrets as stored)."""
    return Integration(
        id=values["id"],
        project_id=ctx.project.id,
        kind=values["kind"],
        integration_id=values["integration_id"],
        config=values["config"],
        sensitive_config=secrets,
        errors=values["errors"],
        created_at=values["created_at"],
        created_by_id=values["created_by_id"],
        health_status=values["health_status"],
        health_detail=values["health_detail"],
        health_checked_at=values["health_checked_at"],
    )


async def save(ctx: ProjectContext, kind: str, built: BuiltIntegration) -> SavedIntegration:
    """Upsert on (project, kind, integration_id): a reconnect keeps the row id, replaces config and
    secrets, clears errors. Overwriting an existing row needs project admin.

    On PostgreSQL, one statement committed on its own (`_save_alone`) whenever it can decide alone.
    Otherwise (SQLite, a refused or health-changing overwrite, an `integration.updated` subscriber,
    a session with a builder's uncommitted write) in the session's transaction: the upsert, then
    the outbox's one statement, then the commit. Neither reads before the write or after it (the
    answer is built from what the upsert returned and the caller, who is the row's creator)."""
    now = datetime.now(UTC)
    secrets = encrypt_secrets(ctx.runtime, built.sensitive_config)
    health = HEALTHY if built.verified else UNKNOWN
    # Create-only kinds (a name the user chose) never overwrite: the refusal below says why.
    may_overwrite = ctx.is_project_admin and built.refuse_existing is None
    repo = repository(ctx)
    written = UpsertValues(
        kind=kind,
        integration_id=built.integration_id,
        config=built.config,
        sensitive_config=secrets,
        created_by_id=ctx.user.id,
        created_at=now,
        may_overwrite=may_overwrite,
        health_status=health,
    )
    alone = await _save_alone(ctx, repo, written)
    if alone is not None:
        await events.integration_saved(ctx.runtime, alone.id)
        return alone
    saved = await repo.upsert(written)
    if saved is None:
        # The refused upsert still took the row's lock (SQLite: the database's write lock): give it
        # back now, not when the request ends (the caller may write elsewhere before then).
        await ctx.session.rollback()
        if built.refuse_existing is not None:
            detail = built.refuse_existing.replace("{integration_id}", built.integration_id or "")
            raise ValidationError(detail, attr=built.refuse_existing_attr)
        raise PermissionDenied("Editing an existing integration requires project admin access.")
    values, inserted = saved
    row = _stored_row(ctx, values, secrets)
    if not inserted and values["health_status"] != health:
        # Reconnecting a failing account clears its failure (`integration.recovered` besides
        # `integration.updated`): a second statement, only on this rare path.
        await set_health(ctx.session, row, health)
        await repo.update_fields(row.id, health_status=health, health_detail=None)
        values = {**values, "health_status": health, "health_detail": None}
    answer = serialize({**values, **_caller_as_creator(ctx)})
    change = events.INTEGRATION_CREATED if inserted else events.INTEGRATION_UPDATED
    await events.integration_changed(ctx.session, change, row, api_object=answer)
    await ctx.session.commit()
    await events.integration_saved(ctx.runtime, row.id)
    return SavedIntegration(row.id, answer, lambda: row)


async def _save_alone(
    ctx: ProjectContext, repo: IntegrationRepository, values: UpsertValues
) -> SavedIntegration | None:
    """PostgreSQL's create in one statement on the driver pool, the outbox's `integration.created`
    event and deliveries riding in it (integration.events.ChangeCompanion); None when it cannot run
    or left an existing row for the session's path."""
    companions = events.change_companions()
    if companions is None or not repo.can_save_alone():
        return None
    creator = _caller_as_creator(ctx)
    # The object of the row if the statement inserts it: all of it is known but the id.
    new_row = {
        "id": 0,
        "kind": values.kind,
        "integration_id": values.integration_id,
        "config": values.config,
        "errors": "",
        "created_at": values.created_at,
        "created_by_id": values.created_by_id,
        "health_status": values.health_status,
        "health_detail": None,
        "health_checked_at": None,
    }
    if_inserted = serialize({**new_row, **creator})
    new = events.NewIntegration(ctx.project.id, ctx.project.organization_id, if_inserted)
    params: dict[str, Any] = {}
    for companion in companions:
        params.update(companion.params(new))
    saved = await repo.save_alone(companions, params, values)
    if saved is None:
        return None
    row, inserted = saved
    answer = {**if_inserted, "id": row["id"]} if inserted else serialize({**row, **creator})
    return SavedIntegration(row["id"], answer, partial(_stored_row, ctx, row, values.sensitive_config))


async def create_integration(ctx: ProjectContext, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    if kind in DEPRECATED_KINDS:
        raise ValidationError(
            "This integration kind is deprecated and can no longer be created.", attr="kind"
        )
    builder = builder_for(kind)
    built = await builder(ctx, config)
    return (await save(ctx, kind, built)).answer


async def delete_integration(ctx: ProjectContext, pk: int) -> None:
    """Delete a row of the project: project admin or its creator. On PostgreSQL one statement
    committed on its own when no change hook has anything to write for it (`_delete_alone`);
    otherwise, and for the 404 and 403 answers, in the session's transaction."""
    repo = repository(ctx)
    gone = await _delete_alone(ctx, repo, pk)
    if gone is not None:
        await events.integration_deleted(ctx.runtime, gone, _secrets_or_nothing(ctx.runtime, gone))
        return
    row = await repo.get_model(pk)
    if row is None:
        raise NotFound()
    if not ctx.is_project_admin and row.created_by_id != ctx.user.id:
        raise PermissionDenied("You don't have sufficient permissions in the project.")
    secrets = _secrets_or_nothing(ctx.runtime, row)
    await repo.delete(pk)
    await events.integration_changed(ctx.session, events.INTEGRATION_DELETED, row)
    await ctx.session.commit()
    await events.integration_deleted(ctx.runtime, row, secrets)


def _secrets_or_nothing(runtime: Runtime, row: Integration) -> dict[str, Any]:
    """The deleted row's secrets for the delete hooks (a revoke): unreadable ones never block a delete."""
    try:
        return read_secrets(runtime, row)
    except Exception:  # noqa: BLE001 - unreadable secrets never block a delete
        return {}


async def _delete_alone(ctx: ProjectContext, repo: IntegrationRepository, pk: int) -> Integration | None:
    companions = events.change_companions()
    if companions is None or not repo.can_save_alone():
        return None
    values = await repo.delete_alone(companions, pk, user_id=ctx.user.id, may_delete_any=ctx.is_project_admin)
    if values is None:
        return None
    return _stored_row(ctx, values, values["sensitive_config"])
