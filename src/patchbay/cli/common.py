"""What every command shares: one-line failures, `--json` output, the runtime, migrations, and
looking up organizations, projects and users by what a person types."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.auth.scopes import parse_scopes
from patchbay.config import Settings
from patchbay.kit.db import redacted
from patchbay.migrations import upgrade
from patchbay.models import Organization, Project, User
from patchbay.runtime import ConfigurationError, Runtime, build_runtime

T = TypeVar("T")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def info(message: str) -> None:
    typer.echo(message, err=True)


def emit(data: Any, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        typer.echo(human)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def load_runtime() -> Runtime:
    try:
        return build_runtime(Settings())
    except ConfigurationError as exc:
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - settings validation errors
        fail(f"invalid configuration: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


def migrate_database(settings: Settings) -> list[str]:
    """Bring the schema up to date; says something only when it applied a migration."""
    try:
        applied = upgrade(settings.database_url)
    except Exception as exc:  # noqa: BLE001
        fail(f"could not migrate the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    if applied:
        info(f"migrated {redacted(settings.database_url)}: applied {', '.join(applied)}")
    return applied


def run_with_session(func: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
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


async def find_organization(session: AsyncSession, ref: str) -> Organization:
    """An organization by id or by a name no other organization has."""
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


async def find_project(session: AsyncSession, ref: str) -> Project:
    """A project by id or by a name no other project has."""
    repo = AccountRepository(session)
    if ref.isascii() and ref.isdigit():
        project = await repo.project(int(ref)) if int(ref) < 2**31 else None
        if project is not None:
            return project
    matches = await repo.projects_by_name(ref)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise accounts.AccountError(f"several projects are named '{ref}': use the id")
    raise accounts.AccountError(f"project '{ref}' not found")


async def find_user(session: AsyncSession, email: str) -> User:
    user = await AccountRepository(session).user_by_email(accounts.normalize_email(email))
    if user is None:
        raise accounts.AccountError(f"no user with email {email}")
    return user


def scopes_or_fail(raw: str | None) -> list[str]:
    try:
        return parse_scopes(raw)
    except ValueError as exc:
        fail(str(exc))
