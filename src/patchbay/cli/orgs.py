"""`patchbay orgs …`: create and list organizations."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.cli.common import JSON_OPTION, emit, run_with_session
from patchbay.models import Organization
from patchbay.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Organizations.")


@app.command("create")
def create(
    name: str = typer.Option(..., "--name"),
    owner_email: str = typer.Option(..., "--owner-email"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an organization owned by a user (created if needed)."""

    async def work(runtime: Runtime, session: AsyncSession) -> Organization:
        owner, _ = await accounts.ensure_user(session, owner_email)
        return await accounts.create_organization(session, name, owner)

    org = run_with_session(work)
    emit({"id": str(org.id), "name": org.name}, as_json, f"organization {org.name} ({org.id})")


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every organization, by name."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[Organization]:
        return await AccountRepository(session).organizations()

    orgs = run_with_session(work)
    rows = [{"id": str(org.id), "name": org.name} for org in orgs]
    human = "\n".join(f"{org.id}  {org.name}" for org in orgs) or "no organizations"
    emit({"count": len(rows), "results": rows}, as_json, human)
