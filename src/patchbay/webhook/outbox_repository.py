"""SQL of the webhook outbox: the publication hook (endpoints that subscribe, the event's deliveries
in the change's transaction) and the delivery loop (claims, outcomes, maintenance). Both
act for no caller: they address endpoints and deliveries by the ids the outbox itself wrote. The
API's reads, scoped to the caller's project, are in `webhook.repository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.user_basic import CREATED_BY_COLUMNS
from patchbay.kit.db import FixedQuery, FixedWrite, Row
from patchbay.models import Project, User, WebhookDelivery, WebhookEndpoint
from patchbay.webhook.repository import PENDING, SUCCEEDED

# Run inside every integration change's transaction (most find no endpoint): built once, on the driver.
_OUTBOX_ENDPOINT_COLUMNS: tuple[Any, ...] = (
    WebhookEndpoint.id,
    WebhookEndpoint.project_id,
    WebhookEndpoint.events,
    Project.organization_id,
)
_ENDPOINTS = (
    select(*_OUTBOX_ENDPOINT_COLUMNS)
    .join(Project, Project.id == WebhookEndpoint.project_id)
    .where(WebhookEndpoint.enabled.is_(True))
)
_PROJECT_ENDPOINTS = FixedQuery(_ENDPOINTS.where(WebhookEndpoint.project_id == bindparam("project_id")))
# An event's deliveries in one statement (PostgreSQL; on SQLite an executemany): each row carries the
# event, so publishing writes nothing else. The deliveries' row trigger sends the NOTIFY.
# The columns a new delivery is written with, in the order of every insert below.
_NEW_DELIVERY = ("id", "event_id", "event_type", "body", "event_created_at", "endpoint_id", "status",
                 "attempts", "last_error", "next_attempt_at", "created_at")  # fmt: skip
_DELIVERY_COLUMNS = f"({', '.join(_NEW_DELIVERY)})"
_EVENT_DELIVERIES = FixedWrite(
    text(
        f"""
    INSERT INTO webhook_deliveries {_DELIVERY_COLUMNS}
    SELECT gen_random_uuid(), :event_id, :event_type, :body, :created_at, endpoint.id, 'pending', 0, '',
           :created_at, :created_at
    FROM unnest(CAST(:endpoint_ids AS uuid[])) AS endpoint (id)
    """
    )
)
# The outbox's part of PostgreSQL's one-statement create (integration.events.ChangeCompanion): after
# `saved`, a delivery of the `integration.created` event of a row it inserted to each endpoint
# subscribing to it, read in the statement's own snapshot. The body comes rendered, but for the row's
# id, which the database assigns in the same statement. `?` is jsonb's "has this element".
CREATED_IN_INSERT = f""",
outbox_subscribers AS (
    SELECT webhook_endpoints.id FROM webhook_endpoints
    WHERE webhook_endpoints.project_id = :project_id AND webhook_endpoints.enabled IS true
      AND (webhook_endpoints.events ? '*' OR webhook_endpoints.events ? 'integration.created')
), outbox_deliveries AS (
    INSERT INTO webhook_deliveries {_DELIVERY_COLUMNS}
    SELECT gen_random_uuid(), CAST(:outbox_event_id AS varchar), 'integration.created',
           CAST(:outbox_body_head AS text) || saved.id::text || CAST(:outbox_body_tail AS text),
           CAST(:outbox_at AS timestamptz), outbox_subscribers.id, 'pending', 0, '',
           CAST(:outbox_at AS timestamptz), CAST(:outbox_at AS timestamptz)
    FROM saved CROSS JOIN outbox_subscribers WHERE saved.inserted
)"""
# The create's statement overwrites an existing row only when no endpoint would hear of it: an
# `integration.updated` subscriber sends the create down the session's path (the event's body needs
# the row as it was stored).
# A delete goes alone likewise only when no endpoint subscribes to `integration.deleted`.
_NO_SUBSCRIBER = """NOT EXISTS (
        SELECT 1 FROM webhook_endpoints
        WHERE webhook_endpoints.project_id = :project_id AND webhook_endpoints.enabled IS true
          AND (webhook_endpoints.events ? '*' OR webhook_endpoints.events ? '{event}'))"""
NO_UPDATED_SUBSCRIBER = _NO_SUBSCRIBER.format(event="integration.updated")
NO_DELETED_SUBSCRIBER = _NO_SUBSCRIBER.format(event="integration.deleted")
_CLAIMED_COLUMNS: tuple[Any, ...] = (
    WebhookDelivery.id,
    WebhookDelivery.attempts,
    WebhookDelivery.event_id,
    WebhookDelivery.event_type,
    WebhookDelivery.body,
    WebhookDelivery.event_created_at,
    WebhookDelivery.endpoint_id,
    WebhookEndpoint.url,
    WebhookEndpoint.secret,
    WebhookEndpoint.previous_secret,
    WebhookEndpoint.previous_secret_expires_at,
    WebhookEndpoint.failing_since,
)
# On the table, not the mapped class: a list of parameters makes a plain executemany (the ORM would
# turn it into its bulk update by primary key, which allows no other criteria).
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_SUCCEEDED = (
    update(_DELIVERIES)
    .where(
        _DELIVERIES.c.id == bindparam("b_id"),
        _DELIVERIES.c.status == PENDING,
        _DELIVERIES.c.attempts == bindparam("b_attempts"),
    )
    .values(
        status=SUCCEEDED,
        last_status_code=bindparam("b_status_code"),
        last_error="",
        next_attempt_at=None,
        delivered_at=bindparam("b_at"),
    )
)
_CREATOR_COLUMNS: tuple[Any, ...] = (User.id.label("created_by_id"), *CREATED_BY_COLUMNS)
_CREATOR = FixedQuery(select(*_CREATOR_COLUMNS).where(User.id == bindparam("user_id")))


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- publication -----------------------------------------------------------------------------
    async def enabled_endpoints(
        self, *, project_id: int | None = None, organization_id: uuid.UUID | None = None
    ) -> Sequence[Row]:
        """Enabled endpoints of one project, or of every project of an organization."""
        if project_id is not None:
            return await _PROJECT_ENDPOINTS.all(self.session, {"project_id": project_id})
        stmt = _ENDPOINTS.where(Project.organization_id == organization_id)
        return (await self.session.execute(stmt)).mappings().all()

    @staticmethod
    def pending_delivery(
        delivery_id: uuid.UUID, event: dict[str, Any], endpoint_id: uuid.UUID
    ) -> dict[str, Any]:
        """A delivery of `event` ({"id", "type", "body", "created_at"}) to one endpoint, due when the
        event was raised."""
        now = event["created_at"]
        return {
            "id": delivery_id,
            "event_id": event["id"],
            "event_type": event["type"],
            "body": event["body"],
            "event_created_at": event["created_at"],
            "endpoint_id": endpoint_id,
            "status": PENDING,
            "attempts": 0,
            "last_error": "",
            "next_attempt_at": now,
            "created_at": now,
        }

    async def add_deliveries(self, deliveries: list[dict[str, Any]]) -> None:
        """On PostgreSQL the insert trigger notifies the delivery loops when the transaction commits."""
        await self.session.execute(insert(WebhookDelivery), deliveries)

    async def add_event_deliveries(self, event: dict[str, Any], endpoint_ids: list[uuid.UUID]) -> None:
        """A pending delivery of `event` to each of `endpoint_ids`, due now."""
        if self.session.get_bind().dialect.name == "postgresql":
            params = {"event_id": event["id"], "event_type": event["type"], "body": event["body"],
                      "created_at": event["created_at"], "endpoint_ids": endpoint_ids}  # fmt: skip
            await _EVENT_DELIVERIES.execute(self.session, params)
            return
        await self.add_deliveries([self.pending_delivery(uuid.uuid4(), event, e) for e in endpoint_ids])

    async def redeliver(self, original_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime) -> None:
        """A new pending delivery of the event of delivery `original_id`, to the same endpoint."""
        copied = select(
            bindparam("new_id", delivery_id, type_=WebhookDelivery.id.type),
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.body,
            WebhookDelivery.event_created_at,
            WebhookDelivery.endpoint_id,
            bindparam("pending", PENDING),
            bindparam("zero", 0),
            bindparam("no_error", ""),
            bindparam("due", now, type_=WebhookDelivery.next_attempt_at.type),
            bindparam("created", now, type_=WebhookDelivery.created_at.type),
        ).where(WebhookDelivery.id == original_id)
        await self.session.execute(insert(WebhookDelivery).from_select(_NEW_DELIVERY, copied))

    async def creator(self, user_id: int | None) -> Row | None:
        if user_id is None:
            return None
        return await _CREATOR.first(self.session, {"user_id": user_id})

    # --- the delivery loop -----------------------------------------------------------------------
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
        """Take up to `limit` due deliveries: each gets its next attempt counted and a lease until
        `lease_until`, so no other worker or process takes it meanwhile. SKIP LOCKED lets concurrent
        claimers pass each other's rows instead of waiting (PostgreSQL; SQLite has one writer).
        The claimed rows come back with what sending needs: on PostgreSQL from the same statement
        (UPDATE … FROM … RETURNING), on SQLite (whose RETURNING sees only the updated table) from a
        second one."""
        due = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        stmt = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due.scalar_subquery()))
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            joined = stmt.where(WebhookEndpoint.id == WebhookDelivery.endpoint_id).returning(
                *_CLAIMED_COLUMNS
            )
            return list((await self.session.execute(joined)).mappings().all())
        ids = list((await self.session.scalars(stmt.returning(WebhookDelivery.id))).all())
        return list(await self.claimed(ids)) if ids else []

    async def claimed(self, ids: list[uuid.UUID]) -> Sequence[Row]:
        stmt = (
            select(*_CLAIMED_COLUMNS)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids))
        )
        return (await self.session.execute(stmt)).mappings().all()

    async def record_successes(self, outcomes: list[dict[str, Any]]) -> None:
        """Many successful attempts at once ({"id", "attempts", "status_code", "at"} each), with the
        same guard as `record_attempt`: one executemany, one commit."""
        await self.session.execute(_SUCCEEDED, outcomes)

    async def record_attempt(self, delivery_id: uuid.UUID, attempts: int, **values: Any) -> None:
        """The outcome of attempt number `attempts`, unless the row moved on meanwhile (its lease ran
        out and another attempt was claimed)."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.attempts == attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def update_endpoint(self, endpoint_id: uuid.UUID, *where: Any, **values: Any) -> None:
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, *where)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(WebhookDelivery.status == PENDING)
        )

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == PENDING)
            )
            or 0
        )

    async def prune(self, before: datetime) -> None:
        """Deliveries of events older than `before` (a redelivery goes with its event)."""
        await self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_created_at < before))
