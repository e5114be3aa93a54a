"""All SQL of the console: its sessions and the password hash on users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.models import ConsoleSession, User


class ConsoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_user_by_email(self, email: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))
        )

    async def set_password_hash(self, user_id: int, password_hash: str | None) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))

    async def insert(self, row: ConsoleSession) -> ConsoleSession:
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_token_hash(self, token_hash: str) -> tuple[ConsoleSession, User] | None:
        """The session and its user, when the user is still active."""
        found = (
            await self.session.execute(
                select(ConsoleSession, User)
                # The only foreign key between them: SQLAlchemy infers the same ON (equivalent mutants).
                .join(User, User.id == ConsoleSession.user_id)  # pragma: no mutate
                .where(ConsoleSession.token_hash == token_hash, User.is_active.is_(True))
            )
        ).first()
        return (found[0], found[1]) if found is not None else None

    async def touch(self, session_id: int, at: datetime) -> None:
        await self.session.execute(
            update(ConsoleSession).where(ConsoleSession.id == session_id).values(last_seen_at=at)
        )

    async def delete_by_token_hash(self, token_hash: str) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))

    async def delete_of_user(self, user_id: int) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))

    async def delete_expired(self, now: datetime, idle_before: datetime) -> None:
        # `<` for `<=` differs at one instant only (equivalent mutants); the `|` is tested.
        expired = ConsoleSession.expires_at <= now  # pragma: no mutate
        idle = ConsoleSession.last_seen_at <= idle_before  # pragma: no mutate
        await self.session.execute(delete(ConsoleSession).where(expired | idle))
