from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, utcnow


class OAuthState(Base):
    """One OAuth attempt: random, single-use, bound to a user and a project, short-lived."""

    __tablename__ = "oauth_states"

    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(Integer, ForeignKey("projects.id", ondelete="CASCADE"))
    next_url: Mapped[str] = mapped_column(Text, default="")
    # Encrypted with the key ring (PKCE verifier and any per-attempt secret).
    secret: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # SHA-256 of the starting browser's cookie: the callback must come from that browser.
    browser_binding: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set when the attempt was started from a hosted connect page (patchbay.connect).
    connect_session_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("connect_sessions.id", ondelete="CASCADE"), nullable=True
    )
    connect_popup: Mapped[bool] = mapped_column(default=False)
