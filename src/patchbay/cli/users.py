"""`patchbay users …`: console sign-in (`set-password`, the password read from standard input)."""

from __future__ import annotations

import asyncio
import sys

import typer

from patchbay.account.service import AccountError
from patchbay.cli.common import JSON_OPTION, emit, fail, load_runtime, migrate_database
from patchbay.console import sessions
from patchbay.console.passwords import PasswordRefused

app = typer.Typer(no_args_is_help=True, help="Users: console passwords.")


@app.command("set-password")
def set_password(email: str = typer.Option(..., "--email"), as_json: bool = JSON_OPTION) -> None:
    """Set the user's console password, read from standard input (one line; never an argument, so
    it stays out of shell history and process lists). Signs the user out of every console session."""
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password[:-1] if password.endswith("\r") else password
    if not password:
        fail(
            "give the password on standard input, e.g. printf '%s\\n' \"$PW\" | patchbay users set-password --email E"
        )
    runtime = load_runtime()
    migrate_database(runtime.settings)

    async def work() -> str:
        try:
            user = await sessions.set_password(runtime, email, password)
            return user.email
        finally:
            await runtime.close()

    try:
        done = asyncio.run(work())
    except (AccountError, PasswordRefused) as exc:
        fail(str(exc))
    emit({"email": done, "password_set": True}, as_json, f"password set for {done}; console sessions ended")
