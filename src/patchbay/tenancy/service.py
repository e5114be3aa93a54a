"""Contexts built for work that arrives without an API key (the OAuth browser callback): the same
project rules as `dependencies.project_context`, for a known user."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.service import AuthSubject, AuthUser
from patchbay.kit.errors import PermissionDenied
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext, ProjectRef, project_level
from patchbay.tenancy.repository import active_user, project_with_level


async def project_context_for_user(
    runtime: Runtime, session: AsyncSession, *, user_id: int, project_id: int, scopes: list[str]
) -> ProjectContext:
    """The user's context on the project, limited to `scopes` and to that project; 403 when the user
    is gone, inactive or no longer a member."""
    user = await active_user(session, user_id)
    project = await project_with_level(session, project_id, user_id)
    if user is None or project is None or project["level"] is None:
        raise PermissionDenied("You don't have access to the project.")
    subject = AuthSubject(
        user=AuthUser.of(user),
        key_id="",
        scopes=scopes,
        scoped_projects=[project_id],
        scoped_organizations=None,
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
