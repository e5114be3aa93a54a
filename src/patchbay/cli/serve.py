"""`patchbay serve` and `patchbay sandbox`: the API, the provider simulators, and the demo set-up
`scripts/demo` uses."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import typer

from patchbay.account import service as accounts
from patchbay.account.repository import AccountRepository
from patchbay.auth.keys import hash_key_value
from patchbay.cli.common import fail, info, load_runtime, migrate_database
from patchbay.config import Settings
from patchbay.kit.crypto import key_file_for_sqlite
from patchbay.runtime import Runtime

DEMO_EMAIL = "demo@patchbay.local"
DEMO_KEY_LABEL = "demo"


def sandbox(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8900, "--port"),
) -> None:
    """Run the provider simulators on loopback. The settings that point Patchbay at them go to
    stdout as NAME=value lines (a .env file: `patchbay sandbox > .env`), the rest to stderr."""
    from patchbay.providers.twilio import simulator as twilio
    from patchbay.sandbox.server import sandbox_env, serve_forever

    _port_free_or_fail(host, port)
    for name, value in sorted(sandbox_env(f"http://{host}:{port}").items()):
        typer.echo(f"{name}={value}")
    info(f"sandbox providers at http://{host}:{port} (Ctrl-C stops them)")
    info(f"sandbox Twilio account: SID {twilio.DEMO_ACCOUNT_SID}, auth token {twilio.DEMO_AUTH_TOKEN}")
    serve_forever(host, port)


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64),
    with_sandbox: bool = typer.Option(False, "--sandbox", help="Wire every provider to a local simulator."),
    demo: bool = typer.Option(
        False, "--demo", help="Bootstrap a demo organization and project, and print their API key."
    ),
    refresher: bool = typer.Option(
        True, "--refresher/--no-refresher", help="Refresh OAuth tokens ahead of expiry."
    ),
) -> None:
    """Migrate if needed, then serve the API."""
    import uvicorn

    _port_free_or_fail(host, port)
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
    site = runtime.settings.site_origin
    key = asyncio.run(demo_key(runtime)) if demo else None
    if not demo:
        asyncio.run(runtime.close())
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="patchbay-metrics-")
    threading.Thread(
        target=_announce_when_listening, args=(f"http://{host}:{port}", site, key), daemon=True
    ).start()
    uvicorn.run(
        "patchbay.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        # SIGTERM: stop accepting, let requests in flight finish (at most this long), then exit.
        timeout_graceful_shutdown=runtime.settings.shutdown_timeout,
        # The supervisor kills a worker that does not answer its ping within this. A spawned worker
        # first re-imports the `patchbay` script (the whole CLI): on a busy machine that took more
        # than uvicorn's default 5 s, and workers were killed while starting (issue 19's drills).
        timeout_worker_healthcheck=runtime.settings.worker_healthcheck_timeout,
    )


def _port_free_or_fail(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc.strerror}): pick another port with --port")


def _announce_when_listening(local: str, site: str, key: str | None) -> None:
    """Say where Patchbay listens once it answers, never before (a curl pasted then would fail)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{local}/_health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        info(f"error: Patchbay did not answer on {local} within 2 minutes")
        return
    lines = [f"Patchbay is listening on {local} (Ctrl-C stops it)"]
    if key is not None:
        lines += [
            f"demo API key: {key}",
            f"try: curl -H 'Authorization: Bearer {key}' {site}/api/projects/@current/integrations/",
            f"API docs: {site}/api/docs/",
        ]
    typer.echo("\n".join(lines))


def demo_key_file(settings: Settings) -> Path:
    """Where the demo key is kept: beside the SQLite database (or in the working directory)."""
    if settings.is_sqlite:
        return key_file_for_sqlite(settings.database_url).with_name("patchbay.demo-key")
    return Path("patchbay.demo-key").resolve()


async def demo_key(runtime: Runtime) -> str:
    """The demo user, organization and project (created once) and their API key: the one kept in
    the demo key file while the database still knows it, else a new one that replaces every older
    demo key (so re-running the demo never piles up keys)."""
    path = demo_key_file(runtime.settings)
    kept = path.read_text().strip() if path.exists() else ""
    try:
        async with runtime.db.transaction() as session:
            repo = AccountRepository(session)
            user = await repo.user_by_email(DEMO_EMAIL)
            if user is None:
                result = await accounts.bootstrap(
                    session,
                    email=DEMO_EMAIL,
                    organization_name="Demo organization",
                    project_name="Demo project",
                )
                result.api_key.key.label = DEMO_KEY_LABEL
                value = result.api_key.value
            else:
                keys = await repo.keys_of(user.id)
                if kept and any(k.secure_value == hash_key_value(kept) for k in keys):
                    return kept
                for old in keys:
                    if old.label == DEMO_KEY_LABEL:
                        await repo.delete_key(old)
                value = (await accounts.create_api_key(session, user, label=DEMO_KEY_LABEL)).value
    finally:
        await runtime.close()
    _write_private(path, value)
    return value


def _write_private(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have been created with looser permissions
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
