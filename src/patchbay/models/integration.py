from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, JSONType, utcnow

TOKEN_REFRESH_FAILED = "TOKEN_REFRESH_FAILED"


class Integration(Base):
    """A project's connection to a provider (PostHog's posthog_integration)."""

    __tablename__ = "integrations"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "integration_id", name="uq_integration_project_kind_id"),
        Index("ix_integration_kind_ext", "kind", "integration_id"),
        Index("ix_integration_project_created", "project_id", "created_at", "id"),
        # A deleted integration's id is never handed to the next one (a stale id held by a client
        # must not reach another account's connection). PostgreSQL sequences never reuse anyway.
        {"sqlite_autoincrement": True},
    )
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(Integer, ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    integration_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Fernet token of the JSON object; decrypted only in the service layer, never serialized.
    sensitive_config: Mapped[str] = mapped_column(Text, default="")
    errors: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # Health (patchbay.integration.health): kept on the row so a page of integrations is one query.
    # healthy | unknown | refresh_failed | reauthorization_required; the detail is safe to show.
    # A server default only (no Python one), fetched back on insert (eager_defaults below), so an
    # INSERT that names no health column stays valid against databases from before migration 0007.
    health_status: Mapped[str] = mapped_column(String(32), server_default=text("'unknown'"))
    health_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    health_checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
