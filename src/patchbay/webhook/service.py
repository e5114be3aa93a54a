"""Rules of webhook endpoints: validation, the secret shown once and its rotation, test events,
deliveries and redelivery. Writing needs a project admin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from patchbay.account.user_basic import created_by
from patchbay.kit.db import Row
from patchbay.kit.errors import NotFound, ValidationError
from patchbay.kit.pagination import PageParams
from patchbay.kit.timefmt import iso
from patchbay.models import WebhookEndpoint
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import require_project_admin
from patchbay.webhook import egress, signing
from patchbay.webhook.outbox import ALL_EVENTS, EVENT_TYPES, PING, publish
from patchbay.webhook.outbox_repository import OutboxRepository
from patchbay.webhook.repository import PENDING, WebhookRepository
from patchbay.webhook.schemas import WebhookCreate, WebhookUpdate

ROTATION_OVERLAP = timedelta(hours=24)
DISABLED = "This webhook is disabled: enable it first."


def serialize(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "url": row["url"],
        "events": list(row["events"] or []),
        "description": row["description"] or "",
        "enabled": bool(row["enabled"]),
        "disabled_reason": row["disabled_reason"] or None,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": created_by(row),
    }


def serialize_delivery(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_status_code": row["last_status_code"],
        "last_error": row["last_error"] or "",
        "next_attempt_at": iso(row["next_attempt_at"])
        if row["next_attempt_at"] and row["status"] == PENDING
        else None,
        "created_at": iso(row["created_at"]),
        "delivered_at": iso(row["delivered_at"]) if row["delivered_at"] else None,
    }


def repository(ctx: ProjectContext) -> WebhookRepository:
    return WebhookRepository(ctx.session, ctx.project.id)


def parse_pk(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


def validate_events(values: list[str]) -> list[str]:
    if not values:
        raise ValidationError(
            'Choose at least one event type, or "*" for every one.', code="empty", attr="events"
        )
    chosen: list[str] = []
    for value in values:
        if value != ALL_EVENTS and value not in EVENT_TYPES:
            raise ValidationError(
                f'"{value}" is not a valid event type.', code="invalid_choice", attr="events"
            )
        if value not in chosen:
            chosen.append(value)
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


async def checked_url(ctx: ProjectContext, raw: str) -> str:
    """https on a public address (resolved now; checked again at every delivery)."""
    settings = ctx.runtime.settings
    try:
        url = egress.normalized(settings, raw)
        await egress.check(settings, url)
    except egress.URLRefused as exc:
        raise ValidationError(str(exc), attr="url") from None
    return url


def _encrypted(ctx: ProjectContext, secret: str) -> str:
    return ctx.runtime.keyring.encrypt_json({"secret": secret})


async def _endpoint(ctx: ProjectContext, raw_pk: str, *, for_update: bool = False) -> WebhookEndpoint:
    row = await repository(ctx).get_model(parse_pk(raw_pk), for_update=for_update)
    if row is None:
        raise NotFound()
    return row


async def _answer(ctx: ProjectContext, pk: uuid.UUID) -> dict[str, Any]:
    row = await repository(ctx).get(pk)
    if row is None:
        raise NotFound()
    return serialize(row)


async def list_endpoints(ctx: ProjectContext, params: PageParams) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository(ctx).page(params)
    return count, [serialize(r) for r in rows]


async def get_endpoint(ctx: ProjectContext, raw_pk: str) -> dict[str, Any]:
    return await _answer(ctx, parse_pk(raw_pk))


async def create_endpoint(ctx: ProjectContext, body: WebhookCreate) -> dict[str, Any]:
    require_project_admin(ctx)
    url = await checked_url(ctx, body.url)
    secret = signing.new_secret()
    row = await repository(ctx).insert(
        url=url,
        events=validate_events(body.events),
        description=body.description,
        enabled=body.enabled,
        disabled_reason="",
        secret=_encrypted(ctx, secret),
        previous_secret="",
        created_by_id=ctx.user.id,
    )
    await ctx.session.commit()
    return {**await _answer(ctx, row.id), "secret": secret}


async def update_endpoint(ctx: ProjectContext, raw_pk: str, body: WebhookUpdate) -> dict[str, Any]:
    require_project_admin(ctx)
    row = await _endpoint(ctx, raw_pk, for_update=True)
    sent = body.model_fields_set
    for field in sent:
        if getattr(body, field) is None:
            raise ValidationError("This field may not be null.", code="null", attr=field)
    if body.url is not None:
        row.url = await checked_url(ctx, body.url)
    if body.events is not None:
        row.events = validate_events(body.events)
    if body.description is not None:
        row.description = body.description
    if body.enabled is not None:
        if body.enabled and not row.enabled:
            row.disabled_reason = ""
            row.failing_since = None
        row.enabled = body.enabled
    row.updated_at = datetime.now(UTC)
    await ctx.session.commit()
    return await _answer(ctx, row.id)


async def delete_endpoint(ctx: ProjectContext, raw_pk: str) -> None:
    require_project_admin(ctx)
    row = await _endpoint(ctx, raw_pk)
    await repository(ctx).delete(row.id)
    await ctx.session.commit()


async def rotate_secret(ctx: ProjectContext, raw_pk: str) -> dict[str, Any]:
    """A new secret signs from now on; the current one keeps signing beside it for 24 hours."""
    require_project_admin(ctx)
    row = await _endpoint(ctx, raw_pk, for_update=True)
    secret = signing.new_secret()
    now = datetime.now(UTC)
    row.previous_secret = row.secret
    row.previous_secret_expires_at = now + ROTATION_OVERLAP
    row.secret = _encrypted(ctx, secret)
    row.updated_at = now
    await ctx.session.commit()
    return {**await _answer(ctx, row.id), "secret": secret}


async def send_test(ctx: ProjectContext, raw_pk: str) -> dict[str, Any]:
    """Queue a `ping` event to this endpoint only (whatever it subscribes to)."""
    require_project_admin(ctx)
    row = await _endpoint(ctx, raw_pk)
    if not row.enabled:
        raise ValidationError(DISABLED)
    target = {"id": row.id, "project_id": ctx.project.id, "organization_id": ctx.project.organization_id}
    deliveries = await publish(ctx.session, PING, {"webhook": {"id": str(row.id)}}, [target])
    await ctx.session.commit()
    return await _delivery(ctx, row.id, deliveries[0])


async def _delivery(ctx: ProjectContext, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> dict[str, Any]:
    found = await repository(ctx).delivery(endpoint_id, delivery_id)
    if found is None:
        raise NotFound()
    return serialize_delivery(found)


async def list_deliveries(
    ctx: ProjectContext, raw_pk: str, params: PageParams
) -> tuple[int, list[dict[str, Any]]]:
    pk = parse_pk(raw_pk)
    if await repository(ctx).get(pk) is None:
        raise NotFound()
    count, rows = await repository(ctx).deliveries(pk, params)
    return count, [serialize_delivery(r) for r in rows]


async def redeliver(ctx: ProjectContext, raw_pk: str, raw_delivery: str) -> dict[str, Any]:
    """A new delivery of the same event (same `webhook-id`) to the same endpoint, due now."""
    require_project_admin(ctx)
    row = await _endpoint(ctx, raw_pk)
    original = await repository(ctx).delivery(row.id, parse_pk(raw_delivery))
    if original is None:
        raise NotFound()
    if not row.enabled:
        raise ValidationError(DISABLED)
    delivery_id = uuid.uuid4()
    await OutboxRepository(ctx.session).redeliver(original["id"], delivery_id, datetime.now(UTC))
    await ctx.session.commit()
    return await _delivery(ctx, row.id, delivery_id)
