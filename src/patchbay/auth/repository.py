"""The one query that turns a key hash into its key and user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.kit.db import FixedQuery, Row
from patchbay.models import PersonalAPIKey, User

# Every caller lookup starts here; tenancy adds its joins to resolve the caller and tenant at once.
KEY_LOOKUP = (
    select(
        PersonalAPIKey.id.label("key_id"),
        PersonalAPIKey.scopes,
        PersonalAPIKey.scoped_projects,
        PersonalAPIKey.scoped_organizations,
        PersonalAPIKey.last_used_at,
        User.id.label("user_id"),
        User.uuid.label("user_uuid"),
        User.email,
        User.first_name,
        User.last_name,
        User.distinct_id,
        User.is_email_verified,
        User.current_organization_id,
        User.current_project_id,
    )
    .join(User, User.id == PersonalAPIKey.user_id)
    .where(User.is_active.is_(True), PersonalAPIKey.secure_value == bindparam("secure_value"))
)


_FIND_ACTIVE_KEY = FixedQuery(KEY_LOOKUP)


async def find_active_key(session: AsyncSession, secure_value: str) -> Row | None:
    return await _FIND_ACTIVE_KEY.first(session, {"secure_value": secure_value})


async def mark_key_used(session: AsyncSession, key_id: str, at: datetime) -> None:
    await session.execute(update(PersonalAPIKey).where(PersonalAPIKey.id == key_id).values(last_used_at=at))
    await session.commit()
