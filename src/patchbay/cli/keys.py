"""`patchbay keys …`: personal API keys (create, list, revoke) and the encryption key ring."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.account.rotation import RotationReport, rotate_encryption
from patchbay.cli.common import (
    JSON_OPTION,
    emit,
    fail,
    find_user,
    info,
    iso,
    load_runtime,
    migrate_database,
    run_with_session,
    scopes_or_fail,
)
from patchbay.models import PersonalAPIKey
from patchbay.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Personal API keys and the encryption key ring.")


def _int_list(raw: str | None, option: str) -> list[int] | None:
    if not raw:
        return None
    try:
        return [int(p) for p in raw.split(",") if p.strip()]
    except ValueError:
        fail(f"{option} takes comma-separated project ids")


@app.command("create")
def create(
    email: str = typer.Option(..., "--email"),
    label: str = typer.Option("", "--label"),
    scopes: str | None = typer.Option(
        None, "--scopes", help="Comma-separated, e.g. integration:read (default *)."
    ),
    scoped_projects: str | None = typer.Option(
        None, "--scoped-projects", help="Comma-separated project ids."
    ),
    scoped_organizations: str | None = typer.Option(
        None, "--scoped-organizations", help="Comma-separated organization ids."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a personal API key; its value is shown once."""
    scope_list = scopes_or_fail(scopes)
    projects = _int_list(scoped_projects, "--scoped-projects")
    orgs = [o.strip() for o in scoped_organizations.split(",") if o.strip()] if scoped_organizations else None

    async def work(runtime: Runtime, session: AsyncSession) -> accounts.CreatedKey:
        user = await find_user(session, email)
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
        f"api key {created.value}  (id {created.key.id}, label '{created.key.label}', "
        f"scopes {','.join(created.key.scopes)}; shown once)",
    )


def _key_json(key: PersonalAPIKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "label": key.label,
        "mask_value": key.mask_value,
        "scopes": key.scopes,
        "scoped_projects": key.scoped_projects,
        "scoped_organizations": key.scoped_organizations,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
    }


@app.command("list")
def list_(email: str = typer.Option(..., "--email"), as_json: bool = JSON_OPTION) -> None:
    """A user's keys: id, label, scopes, last use (hourly precision). Never the value."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[PersonalAPIKey]:
        user = await find_user(session, email)
        return await AccountRepository(session).keys_of(user.id)

    keys = run_with_session(work)
    rows = [_key_json(k) for k in keys]
    human = "\n".join(
        f"{k.id}  {k.mask_value}  label '{k.label}'  scopes {','.join(k.scopes or ['*'])}  "
        f"last used {iso(k.last_used_at) or 'never'}"
        for k in keys
    )
    emit({"count": len(rows), "results": rows}, as_json, human or f"{email} has no API keys")


@app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., metavar="ID", help="The key's id (from `keys list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a personal API key; every running worker refuses it from the next request on."""

    async def work(runtime: Runtime, session: AsyncSession) -> PersonalAPIKey:
        return await accounts.revoke_api_key(session, key_id)

    key = run_with_session(work)
    emit({"id": key.id, "revoked": True}, as_json, f"revoked api key {key.id} (label '{key.label}')")


@app.command("rotate-encryption")
def rotate(as_json: bool = JSON_OPTION) -> None:
    """Re-encrypt every secret with the first key of PATCHBAY_ENCRYPTION_KEYS (safe to re-run)."""
    runtime = load_runtime()
    migrate_database(runtime.settings)

    async def runner() -> RotationReport:
        try:
            return await rotate_encryption(runtime, info)
        finally:
            await runtime.close()

    report = asyncio.run(runner())
    emit(
        {"examined": report.examined, "rotated": report.rotated, "unreadable": report.unreadable},
        as_json,
        f"rotated {report.rotated} of {report.examined} secrets; {report.unreadable} unreadable",
    )
    if report.unreadable:
        info(
            "error: some secrets could not be decrypted with any key of the ring; add the old key and re-run"
        )
        raise typer.Exit(1)
