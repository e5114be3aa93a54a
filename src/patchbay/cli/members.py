"""`patchbay members add`."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account import service as accounts
from patchbay.cli.common import JSON_OPTION, emit, fail, find_organization, run_with_session
from patchbay.models import Organization, User
from patchbay.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Organization members.")


@app.command("add")
def add(
    organization: str = typer.Option(..., "--organization", help="Organization id or unique name."),
    email: str = typer.Option(..., "--email"),
    level: str = typer.Option(..., "--level", help="member, admin or owner"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user (created if needed) to an organization at a level."""
    if level not in accounts.LEVEL_NAMES:
        fail("--level must be member, admin or owner")

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[User, Organization, int]:
        org = await find_organization(session, organization)
        user, _ = await accounts.ensure_user(session, email)
        membership = await accounts.add_member(session, org, user, accounts.LEVEL_NAMES[level])
        return user, org, membership.level

    user, org, level_value = run_with_session(work)
    emit(
        {
            "user": {"id": user.id, "email": user.email},
            "organization": {"id": str(org.id)},
            "level": level_value,
        },
        as_json,
        f"{user.email} is {level} of {org.name} ({org.id})",
    )
