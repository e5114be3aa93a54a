"""FastAPI dependencies that authenticate, resolve the tenant from the path and check access.

This is the one place where a request is tied to a project or an organization: routes receive a
context and repositories filter by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.scopes import missing_scope
from patchbay.auth.service import AuthSubject, admit, authenticate, read_credentials
from patchbay.kit.convertors import parse_row_id, parse_uuid
from patchbay.kit.db import Row
from patchbay.kit.errors import NotFound, PermissionDenied
from patchbay.kit.request_scope import at_request_end
from patchbay.runtime import Runtime
from patchbay.tenancy.context import (
    OrganizationContext,
    ProjectContext,
    ProjectRef,
    UserContext,
    project_level,
)
from patchbay.tenancy.repository import caller_with_project, organization_with_level

PROJECT_NOT_FOUND = "Project not found."
ORGANIZATION_NOT_FOUND = "Organization not found."


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def request_session(request: Request, *, read_only: bool = False) -> AsyncSession:
    """A session for this request, closed when the request ends (kit.request_scope). `read_only`:
    each statement commits on its own, no BEGIN/ROLLBACK round trips."""
    db = request.app.state.runtime.db
    # read_only: speed (no BEGIN/COMMIT), not access (equivalent mutants).
    session: AsyncSession = (db.read_sessionmaker if read_only else db.sessionmaker)()  # pragma: no mutate

    async def close() -> None:
        # A session that never began holds no connection: most read-only requests only run
        # FixedQuery statements on the driver pool, and closing costs a greenlet round.
        if session.in_transaction():
            await session.close()

    at_request_end(request.scope, close)
    return session


async def get_session(request: Request) -> AsyncSession:
    return request_session(request)


def _check_scope(subject: AuthSubject, scope: str) -> None:
    missing = missing_scope(subject.scopes, scope)
    if missing:
        raise PermissionDenied(f"API key missing required scope '{missing}'")


def _parse_project_id(raw: str) -> int | None:
    """The project id of the path; None for `@current`. Malformed ids are 404 (after auth)."""
    if raw == "@current":
        return None
    value = parse_row_id(raw)
    if value is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return value


def _parse_organization_id(raw: str, subject: AuthSubject) -> uuid.UUID:
    if raw == "@current":
        if subject.user.current_organization_id is None:
            raise NotFound(ORGANIZATION_NOT_FOUND)
        return subject.user.current_organization_id
    oid = parse_uuid(raw)
    if oid is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    return oid


async def _caller_with_project(
    runtime: Runtime, session: AsyncSession, secure_value: str, project_id: int | None
) -> Row | None:
    cache = runtime.caller_cache
    if cache is None or not cache.live:
        return await caller_with_project(session, secure_value, project_id)
    row = cache.get(secure_value, project_id)
    if row is None:
        generation = cache.generation  # before the read: a change during it voids the store
        row = await caller_with_project(session, secure_value, project_id)
        if row is not None:
            cache.put(secure_value, project_id, row, generation)
    return row


def project_context(
    scope: str, *, read_only: bool = False, body_first: bool = False
) -> Callable[..., Awaitable[ProjectContext]]:  # pragma: no mutate block
    """Dependency: the caller may act on `{project_id}` with `scope`. `read_only` routes run without
    a transaction (they only read; the hourly last-used stamp is one statement). `body_first`: the
    body is read (and held to the body limit, 413) before anything else answers, as FastAPI's own
    body parameters are; the route parses it later."""

    # One dependency with no sub-dependencies: FastAPI's per-request cost grows with each of them.
    async def dependency(project_id: str, request: Request) -> ProjectContext:
        if body_first:
            await request.body()
        return await resolve_project_context(request, project_id, scope, read_only=read_only)

    return dependency


def organization_context(
    scope: str, *, read_only: bool = False
) -> Callable[..., Awaitable[OrganizationContext]]:  # pragma: no mutate block
    """Dependency: the caller may act on `{organization_id}` with `scope`.

    A caller who is not a member gets the same 404 as for an organization that does not exist, so an
    organization's UUID never confirms that it exists.
    """

    async def dependency(organization_id: str, request: Request) -> OrganizationContext:
        return await resolve_organization_context(request, organization_id, scope, read_only=read_only)

    return dependency


def user_context(
    scope: str | None = None,
) -> Callable[..., Awaitable[UserContext]]:  # pragma: no mutate block
    """Dependency: any authenticated caller (with `scope`, when given)."""

    async def dependency(request: Request) -> UserContext:
        return await resolve_user_context(request, scope)

    return dependency


# The checks live in plain functions called on each request; the factories above run at import,
# where mutation testing (scripts/mutation) cannot reach, and only bind the arguments.
async def resolve_project_context(
    request: Request, project_id: str, scope: str, *, read_only: bool
) -> ProjectContext:
    runtime: Runtime = request.app.state.runtime
    credentials = await read_credentials(request)
    # read_only saves BEGIN/COMMIT round trips and decides nobody's access (equivalent for the tests).
    session = request_session(request, read_only=read_only)  # pragma: no mutate
    try:
        pid = _parse_project_id(project_id)
    except NotFound:
        await authenticate(request, runtime, session)  # a bad key is still 401 first
        raise
    # One round trip (or none, from the caller cache) resolves the caller, project and membership.
    row = await _caller_with_project(runtime, session, credentials.secure_value, pid)
    subject = await admit(runtime, session, credentials, row)
    assert row is not None
    if row["project_id"] is None:
        raise NotFound(PROJECT_NOT_FOUND)
    pid = int(row["project_id"])
    _check_scope(subject, scope)
    if subject.scoped_projects is not None and pid not in subject.scoped_projects:
        raise PermissionDenied(f"API key does not have access to the requested project: ID {pid}.")
    if (
        subject.scoped_organizations is not None
        and str(row["project_organization_id"]) not in subject.scoped_organizations
    ):
        raise PermissionDenied(
            f"API key does not have access to the requested organization: ID {row['project_organization_id']}."
        )
    if row["level"] is None:
        raise PermissionDenied("You don't have access to the project.")
    project = ProjectRef(
        id=pid,
        organization_id=row["project_organization_id"],
        name=row["project_name"],  # pragma: no mutate (display field)
        api_token=row["project_api_token"],  # pragma: no mutate (display field)
    )
    level = project_level(row["level"])
    return ProjectContext(runtime=runtime, session=session, subject=subject, project=project, level=level)


async def resolve_organization_context(
    request: Request, organization_id: str, scope: str, *, read_only: bool
) -> OrganizationContext:
    runtime: Runtime = request.app.state.runtime
    # read_only saves BEGIN/COMMIT round trips and decides nobody's access (equivalent for the tests).
    session = request_session(request, read_only=read_only)  # pragma: no mutate
    subject = await authenticate(request, runtime, session)
    oid = _parse_organization_id(organization_id, subject)
    row = await organization_with_level(session, oid, subject.user.id)
    if row is None or row["level"] is None:
        raise NotFound(ORGANIZATION_NOT_FOUND)
    if subject.scoped_projects is not None:
        raise PermissionDenied("API keys with scoped projects are only supported on project-based endpoints.")
    if subject.scoped_organizations is not None and str(oid) not in subject.scoped_organizations:
        raise PermissionDenied(f"API key does not have access to the requested organization: ID {oid}.")
    _check_scope(subject, scope)
    return OrganizationContext(
        runtime=runtime,
        session=session,
        subject=subject,
        organization_id=oid,
        organization_name=row["name"],  # pragma: no mutate (display field)
        level=int(row["level"]),
    )


async def resolve_user_context(request: Request, scope: str | None) -> UserContext:
    runtime: Runtime = request.app.state.runtime
    session = request_session(request)
    subject = await authenticate(request, runtime, session)
    if scope:
        _check_scope(subject, scope)
    return UserContext(runtime=runtime, session=session, subject=subject)


def require_organization_admin(ctx: OrganizationContext) -> None:
    if not ctx.is_admin:
        raise PermissionDenied("Your organization access level is insufficient.")


def require_project_admin(ctx: ProjectContext) -> None:
    if not ctx.is_project_admin:
        raise PermissionDenied("You don't have sufficient permissions in the project.")
