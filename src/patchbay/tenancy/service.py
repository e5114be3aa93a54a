"""Contexts built for work that arrives without an API key (the OAuth browser callback): the same
project rules as `dependencies.project_context`, for a known user."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.service import AuthSubject, AuthUser
from patchbay.kit.errors import NotFound, PermissionDenied
from patchbay.runtime import Runtime
from patchbay.tenancy.context import OrganizationContext, ProjectContext, ProjectRef, project_level
from patchbay.tenancy.repository import active_user, organization_with_level, project_with_level


async def project_context_for_user(
    runtime: Runtime,
    session: AsyncSession,
    *,
    user_id: int,
    project_id: int,
    scopes: list[str],
    # Whether a resource list may skip its cache (console refresh buttons): not access.
    browser_session: bool = False,  # pragma: no mutate
) -> ProjectContext:
    """The user's context on the project, limited to `scopes` and to that project; 403 when the user
    is gone, inactive or no longer a member. `browser_session`: a person signed in to the console."""
    user = await active_user(session, user_id)
    project = await project_with_level(session, project_id, user_id)
    if user is None or project is None or project["level"] is None:
        raise PermissionDenied("You don't have access to the project.")
    subject = AuthSubject(
        user=AuthUser.of(user),
        key_id="",  # pragma: no mutate (no key: the activity log records none either way)
        scopes=scopes,
        # The context is already this project's: nothing reads the subject's project list again.
        scoped_projects=[project_id],  # pragma: no mutate
        scoped_organizations=None,
        browser_session=browser_session,  # pragma: no mutate (not access, as above)
    )
    ref = ProjectRef(
        id=project["id"],
        organization_id=project["organization_id"],
        name=project["name"],
        api_token=project["api_token"],
    )
    return ProjectContext(
        runtime=runtime, session=session, subject=subject, project=ref, level=project_level(project["level"])
    )


async def organization_context_for_user(
    runtime: Runtime, session: AsyncSession, *, user_id: int, organization_id: uuid.UUID
) -> OrganizationContext:
    """The signed-in user's context on the organization, as `dependencies.organization_context`
    answers a key with every scope: 404 for a non-member, so an id never confirms it exists."""
    user = await active_user(session, user_id)
    row = await organization_with_level(session, organization_id, user_id)
    if user is None or row is None or row["level"] is None:
        raise NotFound("Organization not found.")
    subject = AuthSubject(
        user=AuthUser.of(user),
        key_id="",
        scopes=["*"],
        scoped_projects=None,
        scoped_organizations=None,
        browser_session=True,
    )
    return OrganizationContext(
        runtime=runtime,
        session=session,
        subject=subject,
        organization_id=organization_id,
        organization_name=row["name"],
        level=int(row["level"]),
    )
