from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, utcnow


class IntegrationActivity(Base):
    """One use of an integration: a proxy call, a credentials read, a refresh or a check, with its
    outcome. Never a body, a header or a token (patchbay.activity)."""

    __tablename__ = "integration_activity"
    __table_args__ = (
        Index("ix_integration_activity_integration_created", "integration_id", "created_at", "id"),
        Index("ix_integration_activity_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration_id: Mapped[int] = mapped_column(Integer, ForeignKey("integrations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # proxy | credentials | refresh | check
    outcome: Mapped[str] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # The path below the API base, without the query string (queries may carry secrets).
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The API key's id (not the key): which caller did it. No foreign key: a revoked key's rows stay.
    api_key_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
