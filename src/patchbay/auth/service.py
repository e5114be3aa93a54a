"""Personal API key authentication, as PostHog's PersonalAPIKeyAuthentication answers it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from patchbay.auth.keys import hash_key_value
from patchbay.auth.repository import find_active_key, mark_key_used
from patchbay.kit.db import Row
from patchbay.kit.errors import AuthenticationFailed, NotAuthenticated

if TYPE_CHECKING:
    from patchbay.models import User
    from patchbay.runtime import Runtime  # the runtime holds the caller cache: no import back

_BEARER = re.compile(r"^Bearer\s+(\S.+)$")
LAST_USED_PRECISION = timedelta(hours=1)


@dataclass(frozen=True)
class AuthUser:
    id: int
    uuid: UUID
    email: str
    first_name: str
    last_name: str
    distinct_id: str
    is_email_verified: bool
    current_organization_id: UUID | None
    current_project_id: int | None

    @classmethod
    def of(cls, user: User) -> AuthUser:
        """The caller as a stored user (callers without a key: browser callbacks, connect pages)."""
        return cls(
            id=user.id,
            uuid=user.uuid,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            distinct_id=user.distinct_id,
            is_email_verified=user.is_email_verified,
            # Where `@current` points; these contexts are already bound to one project or
            # organization and never resolve it (equivalent mutants).
            current_organization_id=user.current_organization_id,  # pragma: no mutate
            current_project_id=user.current_project_id,  # pragma: no mutate
        )


@dataclass(frozen=True)
class AuthSubject:
    user: AuthUser
    key_id: str
    scopes: list[str]
    scoped_projects: list[int] | None
    scoped_organizations: list[str] | None
    # A signed-in browser rather than an API key. Patchbay authenticates keys only today; the rules
    # that treat a browser differently (channels' force_refresh) read this flag.
    browser_session: bool = False


async def _body_key(request: Request) -> str | None:
    # HEAD and OPTIONS are answered 405 before authentication, and header names ignore case: the
    # mutants of these two lines are equivalent.
    if request.method in {"GET", "HEAD", "DELETE", "OPTIONS"}:  # pragma: no mutate
        return None
    if "json" not in request.headers.get("content-type", ""):  # pragma: no mutate
        return None
    try:
        data: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    value = data.get("personal_api_key") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


async def find_key_in_request(request: Request) -> tuple[str, str] | None:
    """(value, where) for the first candidate, in PostHog's order: header, body, query string."""
    header = request.headers.get("authorization")  # pragma: no mutate (header names: any case)
    if header:
        match = _BEARER.match(header)
        if match:
            token = match.group(1).strip()
            if token.startswith("pha_"):
                return None  # an OAuth access token: not ours to judge
            return token, "Authorization header"
    body_value = await _body_key(request)
    if body_value:
        return body_value, "body"
    query_value = request.query_params.get("personal_api_key")
    if query_value:
        return query_value, "query string"
    return None


def _hint_for(header: str | None) -> str | None:
    """PostHog's "not provided" message, plus how to send the key when the header almost did."""
    if not header or _BEARER.match(header):
        return None
    return (
        f"{NotAuthenticated.default_detail} Send the personal API key as "
        "'Authorization: Bearer phx_…' (the word Bearer, a space, then the key)."
    )


def client_address(request: Request) -> str:
    """The caller's address as the server saw it (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    # The label of a caller with no address only needs to be one bucket (its spelling: equivalent).
    return request.client.host if request.client else "unknown"  # pragma: no mutate


async def throttle_anonymous(runtime: Runtime, address: str) -> None:
    """Count one request without a valid key against its address: 429 once the address has used
    PATCHBAY_RATE_LIMIT_ANONYMOUS (in Redis when configured, so every worker counts together)."""
    if runtime.anonymous_limiter.rates:
        await runtime.anonymous_limiter.hit(address)


async def anonymous_caller(request: Request) -> None:
    """Dependency of the routes reached without an API key (OAuth callbacks, Vercel's calls, the
    linking pages): they carry their own proof (state, signatures, tokens), but guesses cost a slot."""
    await throttle_anonymous(request.app.state.runtime, client_address(request))


@dataclass(frozen=True)
class Credentials:
    secure_value: str  # the stored form: sha256$<hex>; the plaintext goes no further
    where: str
    address: str  # the client's, for the per-address limit when the key turns out invalid


async def read_credentials(request: Request) -> Credentials:
    """The key the request carries (401 when none), hashed at once."""
    found = await find_key_in_request(request)
    if found is None:
        await throttle_anonymous(request.app.state.runtime, client_address(request))
        raise NotAuthenticated(_hint_for(request.headers.get("authorization")))
    value, where = found
    return Credentials(hash_key_value(value), where, client_address(request))


async def admit(
    runtime: Runtime, session: AsyncSession, credentials: Credentials, row: Row | None
) -> AuthSubject:
    """Turn the key lookup into the caller: 401 for an unknown key, then the hourly last-used
    stamp and the rate limit. `row` comes from a query built on auth.repository.KEY_LOOKUP."""
    if row is None:
        await throttle_anonymous(runtime, credentials.address)
        raise AuthenticationFailed(f"Personal API key found in request {credentials.where} is invalid.")
    now = datetime.now(UTC)
    last_used = row["last_used_at"]
    if last_used is None or now - last_used > LAST_USED_PRECISION:  # pragma: no mutate (hourly stamp)
        await mark_key_used(session, row["key_id"], now)
        if runtime.caller_cache is not None:
            # It holds the old stamp. (PostgreSQL only: tests/auth/test_caller_cache.py.)
            runtime.caller_cache.forget_key(credentials.secure_value)  # pragma: no mutate
    if runtime.rate_limiter.rates:
        await runtime.rate_limiter.hit(credentials.secure_value)
    user = AuthUser(
        id=row["user_id"],
        # Display fields (`created_by` of what the caller saves): they decide nobody's access.
        uuid=row["user_uuid"],  # pragma: no mutate
        email=row["email"],  # pragma: no mutate
        first_name=row["first_name"],  # pragma: no mutate
        last_name=row["last_name"],  # pragma: no mutate
        distinct_id=row["distinct_id"],  # pragma: no mutate
        is_email_verified=row["is_email_verified"],  # pragma: no mutate
        current_organization_id=row["current_organization_id"],
        # `@current` is resolved in SQL from the users row (tenancy.repository); this copy is not read
        # for access (equivalent mutants).
        current_project_id=row["current_project_id"],  # pragma: no mutate
    )
    return AuthSubject(
        user=user,
        key_id=row["key_id"],
        scopes=list(row["scopes"] or []),
        scoped_projects=[int(p) for p in row["scoped_projects"]] if row["scoped_projects"] else None,
        scoped_organizations=[str(o) for o in row["scoped_organizations"]]
        if row["scoped_organizations"]
        else None,
    )


async def authenticate(request: Request, runtime: Runtime, session: AsyncSession) -> AuthSubject:
    credentials = await read_credentials(request)
    return await admit(
        runtime, session, credentials, await find_active_key(session, credentials.secure_value)
    )
