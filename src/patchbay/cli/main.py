"""`patchbay` — the command line (CONTRACT §3). Every command prints one clear line and exits
non-zero on bad input; `--json` prints one JSON object on stdout and nothing else there.
Each group of commands lives in its own module (orgs.py, projects.py, keys.py, serve.py …)."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay import __version__
from patchbay.account import service as accounts
from patchbay.cli import keys, members, orgs, projects, serve, users
from patchbay.cli.common import (
    JSON_OPTION,
    emit,
    info,
    load_runtime,
    migrate_database,
    run_with_session,
    scopes_or_fail,
)
from patchbay.cli.domain_connect import app as domain_connect_app
from patchbay.kit.db import redacted
from patchbay.runtime import Runtime

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: on/off options read `--sandbox`, not `--sandbox <bool>`
    help="Patchbay: self-hosted integrations service.",
)
for group, name in (
    (orgs.app, "orgs"),
    (projects.app, "projects"),
    (members.app, "members"),
    (keys.app, "keys"),
    (users.app, "users"),
    (domain_connect_app, "domain-connect"),
):
    group.rich_markup_mode = None
    app.add_typer(group, name=name)
app.command()(serve.serve)
app.command()(serve.sandbox)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"patchbay {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Patchbay: self-hosted integrations service."""


@app.command()
def migrate() -> None:
    """Apply database migrations and say which (or that the database was up to date)."""
    runtime = load_runtime()
    if not migrate_database(runtime.settings):
        info(f"{redacted(runtime.settings.database_url)} is up to date; no migration to apply")


@app.command()
def bootstrap(
    email: str = typer.Option(..., "--email"),
    organization: str = typer.Option("Default organization", "--organization"),
    project: str = typer.Option("Default project", "--project"),
    scopes: str | None = typer.Option(
        None, "--scopes", help="Comma-separated, e.g. integration:read (default *)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user, an organization they own, a project (their current one) and an API key."""
    scope_list = scopes_or_fail(scopes)

    async def work(runtime: Runtime, session: AsyncSession) -> accounts.Bootstrapped:
        return await accounts.bootstrap(
            session, email=email, organization_name=organization, project_name=project, scopes=scope_list
        )

    result = run_with_session(work)
    data = {
        "user": {"id": result.user.id, "email": result.user.email},
        "organization": {"id": str(result.organization.id)},
        "project": {"id": result.project.id},
        "api_key": result.api_key.value,
    }
    emit(
        data,
        as_json,
        f"user {result.user.email} (id {result.user.id})\n"
        f"organization {result.organization.name} ({result.organization.id})\n"
        f"project {result.project.name} (id {result.project.id})\n"
        f"api key {result.api_key.value}  (shown once)",
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
