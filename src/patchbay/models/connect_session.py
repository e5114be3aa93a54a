from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, JSONType, utcnow


class ConnectSession(Base):
    """A link a product hands its end user to connect one integration: stored as the SHA-256 of
    its token, short-lived, spent by the connection it makes."""

    __tablename__ = "connect_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[int] = mapped_column(Integer, ForeignKey("projects.id", ondelete="CASCADE"))
    # The connection is made as this user (its `created_by`), with this user's rights.
    created_by_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"))
    kinds: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    next_url: Mapped[str] = mapped_column(Text, default="/")
    # Where a popup may post its result (an allowed origin); empty: the origin of next_url.
    origin: Mapped[str] = mapped_column(Text, default="")
    # Reconnect: this integration keeps its id (the session goes when the integration does).
    integration_pk: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("integrations.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
