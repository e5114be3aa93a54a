"""`patchbay projects …`: create, list, and choose the project `@current` means for a user."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.cli.common import (
    JSON_OPTION,
    emit,
    find_organization,
    find_project,
    find_user,
    run_with_session,
)
from patchbay.models import Project, User
from patchbay.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Projects.")


def _project_json(project: Project) -> dict[str, object]:
    return {"id": project.id, "name": project.name, "organization_id": str(project.organization_id)}


@app.command("create")
def create(
    organization: str = typer.Option(..., "--organization", help="Organization id or unique name."),
    name: str = typer.Option(..., "--name"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a project in an organization. Members without a current project get it as theirs."""

    async def work(runtime: Runtime, session: AsyncSession) -> Project:
        org = await find_organization(session, organization)
        return await accounts.create_project(session, org, name)

    project = run_with_session(work)
    emit(
        _project_json(project),
        as_json,
        f"project {project.name} (id {project.id}) in organization {project.organization_id}",
    )


@app.command("list")
def list_(
    organization: str | None = typer.Option(
        None, "--organization", help="Only this organization's projects (id or unique name)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Projects, oldest first."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[Project]:
        org_id = (await find_organization(session, organization)).id if organization else None
        return await AccountRepository(session).projects(org_id)

    projects = run_with_session(work)
    rows = [_project_json(p) for p in projects]
    human = (
        "\n".join(f"{p.id}  {p.name}  (organization {p.organization_id})" for p in projects) or "no projects"
    )
    emit({"count": len(rows), "results": rows}, as_json, human)


@app.command("use")
def use(
    project: str = typer.Argument(..., help="Project id or unique name."),
    email: str = typer.Option(..., "--email", help="The user whose current project changes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a user's current project: what `@current` means for their API keys."""

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[User, Project]:
        user = await find_user(session, email)
        chosen = await find_project(session, project)
        await accounts.use_project(session, user, chosen)
        return user, chosen

    user, chosen = run_with_session(work)
    emit(
        {"user": {"id": user.id, "email": user.email}, "project": _project_json(chosen)},
        as_json,
        f"{user.email} now uses project {chosen.name} (id {chosen.id}) as @current",
    )
