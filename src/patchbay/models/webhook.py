"""Webhook endpoints of a project and the deliveries of the events Patchbay raised (the outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, JSONType, new_uuid, utcnow


class WebhookEndpoint(Base):
    """Where a project's events go. `secret` (and `previous_secret` while a rotation overlaps) are
    Fernet tokens of the `whsec_…` value: decrypted only to sign, never serialized."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str] = mapped_column(Text, default="")
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Set at the first failed attempt after a success: three days of failures disable the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class WebhookDelivery(Base):
    """One event to one endpoint: pending until a 2xx, retried on the schedule, then failed. The row
    carries its event (id, type, the body every attempt sends and signs): publishing writes one row
    per endpoint and nothing else (migration 0012). The deliveries of one event share its id, the
    `webhook-id` header."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery loop's claim: pending rows by due time.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        # The pruner's, by the event's age. BRIN on PostgreSQL: the rows arrive in time order and a
        # BRIN entry is written once per range of pages, not once per row.
        Index("ix_webhook_deliveries_event_created_at", "event_created_at", postgresql_using="brin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    event_id: Mapped[str] = mapped_column(String(40))  # evt_…, the webhook-id header
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    event_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A foreign key on SQLite only; on PostgreSQL a trigger keeps its cascade and no insert locks
    # the endpoint's row (migration 0010).
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # While an attempt is in flight this is its lease: the row is not due again until it passes.
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
