"""Signing in to the console and the server-side sessions behind its cookie.

The browser holds a random value; the database holds its SHA-256, the user, and two limits: an
absolute end (`PATCHBAY_CONSOLE_SESSION_MAX_HOURS` after sign-in) and an idle timeout
(`PATCHBAY_CONSOLE_SESSION_IDLE_MINUTES` since the last request). Signing in always makes a new
session (the old cookie's is deleted), so a value planted before sign-in is worth nothing after."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from patchbay.account.service import AccountError, normalize_email
from patchbay.config import Settings
from patchbay.console import passwords
from patchbay.console.repository import ConsoleRepository
from patchbay.kit.errors import Throttled
from patchbay.kit.ratelimit import RateLimiter, parse_rates
from patchbay.models import ConsoleSession, User
from patchbay.runtime import Runtime

COOKIE = "pb_console"
# last_seen_at is written at most this often: a page view is a read, not a write each time.
TOUCH_EVERY = timedelta(minutes=1)
SIGN_IN_FAILED = "The email or password is not right."


class SignInRefused(Exception):
    """A sign-in that did not open a session: `status` 400 (wrong credentials) or 429 (throttled)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)  # pragma: no mutate (read from .message; args are shown nowhere)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class SignedIn:
    row: ConsoleSession
    user: User
    token_hash: str


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_timeout(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.console_session_idle_minutes)


def _limiters(runtime: Runtime) -> tuple[RateLimiter, RateLimiter]:
    # Built per call: cheap, and settings stay the one source (tests build apps with other limits).
    rates = parse_rates(runtime.settings.console_signin_rate_limit)
    return (
        # Any two prefixes work: an address never equals an e-mail address (equivalent mutants).
        RateLimiter(rates, runtime.cache, prefix="console-signin-account"),  # pragma: no mutate
        RateLimiter(rates, runtime.cache, prefix="console-signin-address"),  # pragma: no mutate
    )


async def set_password(runtime: Runtime, email: str, password: str) -> User:
    """`patchbay users set-password`: hash and store; every console session of the user ends."""
    hashed = passwords.hash_password(password)
    async with runtime.db.transaction() as session:
        repo = ConsoleRepository(session)
        user = await repo.active_user_by_email(normalize_email(email))
        if user is None:
            raise AccountError(f"no active user with email {email.strip()}")
        await repo.set_password_hash(user.id, hashed)
        await repo.delete_of_user(user.id)
    return user


async def sign_in(
    runtime: Runtime, email: str, password: str, address: str, previous_token: str | None
) -> str:
    """A new session's cookie value, or SignInRefused. Failed attempts count per account and per
    address; once either is over PATCHBAY_CONSOLE_SIGNIN_RATE_LIMIT every attempt is refused,
    the right password too, until the window passes."""
    # The throttle's key; the lookup normalises on its own (so a case or length mutant is equivalent).
    account = email.strip().lower()[:254]  # pragma: no mutate
    by_account, by_address = _limiters(runtime)
    try:
        await by_account.check(account)
        await by_address.check(address)
    except Throttled as exc:
        raise SignInRefused(429, "Too many failed sign-ins. Try again later.", exc.wait_seconds) from None
    now = _now()
    async with runtime.db.transaction() as session:
        repo = ConsoleRepository(session)
        # An empty address finds no user either way (equivalent mutants).
        user = await repo.active_user_by_email(account) if account else None  # pragma: no mutate
        # argon2 takes tens of milliseconds of CPU on purpose: off the event loop.
        matched = await asyncio.to_thread(passwords.verify, user.password_hash if user else None, password)
        if not matched or user is None:
            for limiter, ident in ((by_account, account), (by_address, address)):
                try:
                    await limiter.hit(ident)
                except Throttled:
                    pass  # counted; the next attempt is refused by check()
            raise SignInRefused(400, SIGN_IN_FAILED)
        assert user.password_hash is not None
        if passwords.needs_rehash(user.password_hash):
            await repo.set_password_hash(user.id, passwords.hash_password(password))
        if previous_token:
            await repo.delete_by_token_hash(token_hash(previous_token))
        await repo.delete_expired(now, now - idle_timeout(runtime.settings))
        token = secrets.token_urlsafe(32)  # pragma: no mutate (token_urlsafe's default is 32 bytes too)
        await repo.insert(
            ConsoleSession(
                token_hash=token_hash(token),
                user_id=user.id,
                # The columns' defaults are the same moment (equivalent mutants).
                created_at=now,  # pragma: no mutate
                last_seen_at=now,  # pragma: no mutate
                expires_at=now + timedelta(hours=runtime.settings.console_session_max_hours),
            )
        )
    return token


async def resolve(runtime: Runtime, token: str | None) -> SignedIn | None:
    """The live session of the cookie's value (its idle clock restarted), or None."""
    # A cheap bound before hashing; a token of about 100 characters is unknown anyway (equivalent).
    if not token or len(token) > 100:  # pragma: no mutate
        return None
    hashed = token_hash(token)
    now = _now()
    async with runtime.db.transaction() as session:
        repo = ConsoleRepository(session)
        found = await repo.by_token_hash(hashed)
        if found is None:
            return None
        row, user = found
        # `<` for `<=` differs at one instant only (equivalent mutants); the `or` is tested.
        expired = row.expires_at <= now  # pragma: no mutate
        idle = row.last_seen_at + idle_timeout(runtime.settings) <= now  # pragma: no mutate
        if expired or idle:
            await repo.delete_by_token_hash(hashed)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:  # pragma: no mutate (one instant)
            await repo.touch(row.id, now)
        session.expunge_all()
    return SignedIn(row, user, hashed)


async def sign_out(runtime: Runtime, token: str | None) -> None:
    if not token:
        return
    async with runtime.db.transaction() as session:
        await ConsoleRepository(session).delete_by_token_hash(token_hash(token))
