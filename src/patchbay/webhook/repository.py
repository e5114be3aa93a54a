"""All SQL of webhooks.

`WebhookRepository` serves the API: every read starts from `readable_statement`, scoped to the
caller's project. The outbox's SQL (publication and delivery, acting for no caller) is in
`webhook.outbox_repository`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.user_basic import CREATED_BY_COLUMNS
from patchbay.kit.db import Row
from patchbay.kit.pagination import PageParams, fetch_page
from patchbay.models import User, WebhookDelivery, WebhookEndpoint

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"

_ENDPOINT_COLUMNS: tuple[Any, ...] = (
    WebhookEndpoint.id,
    WebhookEndpoint.url,
    WebhookEndpoint.events,
    WebhookEndpoint.description,
    WebhookEndpoint.enabled,
    WebhookEndpoint.disabled_reason,
    WebhookEndpoint.created_at,
    WebhookEndpoint.updated_at,
    WebhookEndpoint.created_by_id,
    *CREATED_BY_COLUMNS,
)
_DELIVERY_COLUMNS: tuple[Any, ...] = (
    WebhookDelivery.id,
    WebhookDelivery.event_id,
    WebhookDelivery.event_type,
    WebhookDelivery.status,
    WebhookDelivery.attempts,
    WebhookDelivery.last_status_code,
    WebhookDelivery.last_error,
    WebhookDelivery.next_attempt_at,
    WebhookDelivery.created_at,
    WebhookDelivery.delivered_at,
)


class WebhookRepository:
    def __init__(self, session: AsyncSession, project_id: int) -> None:
        self.session = session
        self.project_id = project_id

    def readable_statement(self) -> Select[Any]:
        """The project's endpoints, creator joined: the tenant filter every read starts from."""
        return (
            select(*_ENDPOINT_COLUMNS)
            # Without the ON clause SQLAlchemy infers this one from the only foreign key (equivalent).
            .outerjoin(User, User.id == WebhookEndpoint.created_by_id)  # pragma: no mutate
            .where(WebhookEndpoint.project_id == self.project_id)
        )

    async def page(self, params: PageParams) -> tuple[int, list[Row]]:
        return await fetch_page(
            self.session,
            self.readable_statement(),
            order_by=(WebhookEndpoint.created_at, WebhookEndpoint.id),
            params=params,
        )

    async def get(self, pk: uuid.UUID) -> Row | None:
        stmt = self.readable_statement().where(WebhookEndpoint.id == pk)
        return (await self.session.execute(stmt)).mappings().first()

    # A default of True, or the lock on every table, would lock more, not read more (SQLite: no
    # row locks at all): equivalent mutants.
    async def get_model(self, pk: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint | None:  # pragma: no mutate
        ids = self.readable_statement().with_only_columns(WebhookEndpoint.id)
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == pk, WebhookEndpoint.id.in_(ids))
        if for_update:
            stmt = stmt.with_for_update(of=WebhookEndpoint)  # pragma: no mutate
        return await self.session.scalar(stmt)

    async def insert(self, **values: Any) -> WebhookEndpoint:
        row = WebhookEndpoint(project_id=self.project_id, **values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, pk: uuid.UUID) -> None:
        await self.session.execute(
            delete(WebhookEndpoint).where(
                WebhookEndpoint.id == pk, WebhookEndpoint.project_id == self.project_id
            )
        )

    def deliveries_statement(self, endpoint_id: uuid.UUID) -> Select[Any]:
        return (
            select(*_DELIVERY_COLUMNS)
            # Without its ON clause SQLAlchemy infers it from the only foreign key (equivalent).
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)  # pragma: no mutate
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookEndpoint.project_id == self.project_id)
        )

    async def deliveries(self, endpoint_id: uuid.UUID, params: PageParams) -> tuple[int, list[Row]]:
        return await fetch_page(
            self.session,
            self.deliveries_statement(endpoint_id),
            order_by=(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()),
            params=params,
        )

    async def delivery(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Row | None:
        stmt = self.deliveries_statement(endpoint_id).where(WebhookDelivery.id == delivery_id)
        return (await self.session.execute(stmt)).mappings().first()
