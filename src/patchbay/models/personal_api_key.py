from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from patchbay.models.base import Base, JSONType, utcnow


class PersonalAPIKey(Base):
    """The plaintext is never stored: only `sha256$<hex>` and a mask."""

    __tablename__ = "personal_api_keys"

    id: Mapped[str] = mapped_column(String(50), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40), default="")
    mask_value: Mapped[str] = mapped_column(String(11))
    secure_value: Mapped[str] = mapped_column(String(300), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    scoped_projects: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    scoped_organizations: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
