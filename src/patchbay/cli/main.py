"""`patchbay` — the command line (CONTRACT §3). Every command prints one clear line and exits
non-zero on bad input; `--json` prints one JSON object on stdout and nothing else there."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import orjson
import typer

from patchbay.account import service as accounts
from patchbay.account.rotation import rotate_encryption
from patchbay.auth.scopes import parse_scopes
from patchbay.cli.domain_connect import app as domain_connect_app
from patchbay.config import Settings
from patchbay.kit.db import redacted
from patchbay.migrations import upgrade
from patchbay.models import Organization, User
from patchbay.runtime import ConfigurationError, Runtime, build_runtime

T = TypeVar("T")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Patchbay: self-hosted integrations service."
)
orgs_app = typer.Typer(no_args_is_help=True, help="Organizations.")
projects_app = typer.Typer(no_args_is_help=True, help="Projects.")
members_app = typer.Typer(no_args_is_help=True, help="Organization members.")
keys_app = typer.Typer(no_args_is_help=True, help="Personal API keys and the encryption key ring.")
app.add_typer(orgs_app, name="orgs")
app.add_typer(projects_app, name="projects")
app.add_typer(members_app, name="members")
app.add_typer(keys_app, name="keys")
app.add_typer(domain_connect_app, name="domain-connect", help="Domain Connect keys and templates.")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def info(message: str) -> None:
    typer.echo(message, err=True)


def emit(data: dict[str, Any], as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        typer.echo(human)


def load_runtime() -> Runtime:
    try:
        return build_runtime(Settings())
    except ConfigurationError as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - settings validation errors
        fail(f"invalid configuration: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


def migrate_database(settings: Settings) -> None:
    info(f"migrating {redacted(settings.database_url)} ...")
    try:
        upgrade(settings.database_url)
    except Exception as exc:  # noqa: BLE001
        fail(f"could not migrate the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    info("database is up to date")


def run_with_session(func: Callable[[Runtime, Any], Awaitable[T]]) -> T:
    """Migrate, open a transaction, run `func`, commit; AccountError becomes a one-line failure."""
    runtime = load_runtime()
    migrate_database(runtime.settings)

    async def runner() -> T:
        try:
            async with runtime.db.transaction() as session:
                return await func(runtime, session)
        finally:
            await runtime.close()

    try:
        return asyncio.run(runner())
    except accounts.AccountError as exc:
        fail(str(exc))


async def find_organization(session: Any, ref: str) -> Organization:
    from patchbay.account.repository import AccountRepository

    repo = AccountRepository(session)
    try:
        org = await repo.organization(uuid.UUID(ref))
        if org is not None:
            return org
    except ValueError:
        pass
    matches = await repo.organization_by_name(ref)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise accounts.AccountError(f"several organizations are named '{ref}': use the id")
    raise accounts.AccountError(f"organization '{ref}' not found")


def scopes_or_fail(raw: str | None) -> list[str]:
    try:
        return parse_scopes(raw)
    except ValueError as exc:
        fail(str(exc))


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    runtime = load_runtime()
    migrate_database(runtime.settings)


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
    """Create a user, an organization they own, a project and an API key."""
    scope_list = scopes_or_fail(scopes)

    async def work(runtime: Runtime, session: Any) -> accounts.Bootstrapped:
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


@orgs_app.command("create")
def orgs_create(
    name: str = typer.Option(..., "--name"),
    owner_email: str = typer.Option(..., "--owner-email"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an organization owned by a user (created if needed)."""

    async def work(runtime: Runtime, session: Any) -> Organization:
        owner, _ = await accounts.ensure_user(session, owner_email)
        return await accounts.create_organization(session, name, owner)

    org = run_with_session(work)
    emit({"id": str(org.id), "name": org.name}, as_json, f"organization {org.name} ({org.id})")


@projects_app.command("create")
def projects_create(
    organization: str = typer.Option(..., "--organization", help="Organization id or unique name."),
    name: str = typer.Option(..., "--name"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a project in an organization."""

    async def work(runtime: Runtime, session: Any) -> Any:
        org = await find_organization(session, organization)
        return await accounts.create_project(session, org, name)

    project = run_with_session(work)
    emit(
        {"id": project.id, "name": project.name, "organization_id": str(project.organization_id)},
        as_json,
        f"project {project.name} (id {project.id}) in organization {project.organization_id}",
    )


@members_app.command("add")
def members_add(
    organization: str = typer.Option(..., "--organization"),
    email: str = typer.Option(..., "--email"),
    level: str = typer.Option(..., "--level", help="member, admin or owner"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user (created if needed) to an organization at a level."""
    if level not in accounts.LEVEL_NAMES:
        fail("--level must be member, admin or owner")

    async def work(runtime: Runtime, session: Any) -> tuple[User, Organization, int]:
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


def _int_list(raw: str | None, option: str) -> list[int] | None:
    if not raw:
        return None
    try:
        return [int(p) for p in raw.split(",") if p.strip()]
    except ValueError:
        fail(f"{option} takes comma-separated project ids")


@keys_app.command("create")
def keys_create(
    email: str = typer.Option(..., "--email"),
    label: str = typer.Option("", "--label"),
    scopes: str | None = typer.Option(None, "--scopes"),
    scoped_projects: str | None = typer.Option(None, "--scoped-projects"),
    scoped_organizations: str | None = typer.Option(None, "--scoped-organizations"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a personal API key; its value is shown once."""
    scope_list = scopes_or_fail(scopes)
    projects = _int_list(scoped_projects, "--scoped-projects")
    orgs = [o.strip() for o in scoped_organizations.split(",") if o.strip()] if scoped_organizations else None

    async def work(runtime: Runtime, session: Any) -> accounts.CreatedKey:
        from patchbay.account.repository import AccountRepository

        user = await AccountRepository(session).user_by_email(accounts.normalize_email(email))
        if user is None:
            raise accounts.AccountError(f"no user with email {email}")
        return await accounts.create_api_key(
            session, user, label=label, scopes=scope_list, scoped_projects=projects, scoped_organizations=orgs
        )

    created = run_with_session(work)
    emit(
        {
            "id": created.key.id,
            "label": created.key.label,
            "scopes": created.key.scopes,
            "value": created.value,
        },
        as_json,
        f"api key {created.value}  (label '{created.key.label}', scopes {','.join(created.key.scopes)}; shown once)",
    )


@keys_app.command("rotate-encryption")
def keys_rotate_encryption(as_json: bool = JSON_OPTION) -> None:
    """Re-encrypt every secret with the first key of PATCHBAY_ENCRYPTION_KEYS (safe to re-run)."""
    runtime = load_runtime()
    migrate_database(runtime.settings)

    async def runner() -> Any:
        try:
            return await rotate_encryption(runtime, info)
        finally:
            await runtime.close()

    report = asyncio.run(runner())
    data = {"examined": report.examined, "rotated": report.rotated, "unreadable": report.unreadable}
    emit(
        data,
        as_json,
        f"rotated {report.rotated} of {report.examined} secrets; {report.unreadable} unreadable",
    )
    if report.unreadable:
        info(
            "error: some secrets could not be decrypted with any key of the ring; add the old key and re-run"
        )
        raise typer.Exit(1)


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8900, "--port"),
) -> None:
    """Run the provider simulators on loopback and print the settings that point Patchbay at them."""
    from patchbay.providers.twilio import simulator as twilio
    from patchbay.sandbox.server import sandbox_env, serve_forever

    for name, value in sorted(sandbox_env(f"http://{host}:{port}").items()):
        typer.echo(f"{name}={value}")
    info(f"sandbox Twilio account: SID {twilio.DEMO_ACCOUNT_SID}, auth token {twilio.DEMO_AUTH_TOKEN}")
    serve_forever(host, port)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64),
    with_sandbox: bool = typer.Option(False, "--sandbox", help="Wire every provider to a local simulator."),
    demo: bool = typer.Option(False, "--demo", help="Bootstrap a demo organization and print an API key."),
    refresher: bool = typer.Option(
        True, "--refresher/--no-refresher", help="Refresh OAuth tokens ahead of expiry."
    ),
) -> None:
    """Migrate if needed, then serve the API."""
    import uvicorn

    if with_sandbox:
        from patchbay.providers.twilio import simulator as twilio
        from patchbay.sandbox.server import SandboxServer

        sandbox_server = SandboxServer(demo=True).start()
        os.environ.update(sandbox_server.env())
        info(f"sandbox providers at {sandbox_server.base_url}")
        info(f"sandbox Twilio account: SID {twilio.DEMO_ACCOUNT_SID}, auth token {twilio.DEMO_AUTH_TOKEN}")
    os.environ["PATCHBAY_REFRESHER"] = "1" if refresher else "0"
    if not Settings().model_fields_set & {"site_url"}:
        # No site URL configured: links and redirect URIs follow the address we serve on.
        os.environ["PATCHBAY_SITE_URL"] = f"http://{host}:{port}"
    runtime = load_runtime()
    migrate_database(runtime.settings)
    if demo:
        key = asyncio.run(_demo_key(runtime))
        typer.echo(f"demo API key: {key}")
        typer.echo(
            f"try: curl -H 'Authorization: Bearer {key}' {runtime.settings.site_origin}/api/projects/@current/integrations/"
        )
    else:
        asyncio.run(runtime.close())
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="patchbay-metrics-")
    uvicorn.run(
        "patchbay.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


DEMO_EMAIL = "demo@patchbay.local"


async def _demo_key(runtime: Runtime) -> str:
    """The demo user, organization and project (created once) and a fresh demo key."""
    from sqlalchemy import delete

    from patchbay.account.repository import AccountRepository
    from patchbay.models import PersonalAPIKey

    try:
        async with runtime.db.transaction() as session:
            user = await AccountRepository(session).user_by_email(DEMO_EMAIL)
            if user is None:
                result = await accounts.bootstrap(
                    session,
                    email=DEMO_EMAIL,
                    organization_name="Demo organization",
                    project_name="Demo project",
                )
                return result.api_key.value
            await session.execute(
                delete(PersonalAPIKey).where(
                    PersonalAPIKey.user_id == user.id, PersonalAPIKey.label == "demo"
                )
            )
            created = await accounts.create_api_key(session, user, label="demo")
            return created.value
    finally:
        await runtime.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
