"""The servers one benchmark run starts (Patchbay's and the baseline's, with their environment) and
the Slack sandbox behind the channels run; everything started here is stopped by stop_all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from bench.log import say
from bench.servers import REPO, Server, baseline_command, free_port, patchbay_command
from patchbay.kit.db import driver_dsn


class ServerFleet:
    def __init__(
        self, workers: int, src: str | None, redis: str | None, keys: str, workdir: Path, notes: list[str]
    ) -> None:
        self.workers = workers
        self.src = src
        self.redis = redis
        self.keys = keys
        self.workdir = workdir
        # The report's notes, shared with the runner: a sandbox that cannot start leaves one.
        self.notes = notes
        self.servers: list[Server] = []
        self.sandbox: Any = None

    def server_env(self, url: str, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
        env.update(
            {
                "PATCHBAY_DATABASE_URL": url,
                "PATCHBAY_ENCRYPTION_KEYS": self.keys,
                "PATCHBAY_RATE_LIMIT": "off",
                "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
                # The publishing run writes deliveries to an endpoint nobody serves: measure the
                # publishing, not attempts to send (delivery is bench/webhooks.py's).
                "PATCHBAY_WEBHOOK_DELIVERY": "false",
                "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (self.src, str(REPO), os.environ.get("PYTHONPATH", "")) if p
                ),
            }
        )
        (self.workdir / "metrics").mkdir(exist_ok=True)
        if self.redis:
            env["PATCHBAY_REDIS_URL"] = self.redis
            env["PATCHBAY_REDIS_KEY_PREFIX"] = f"patchbay-bench-{secrets.token_hex(4)}:"
        if self.sandbox is not None:
            env.update(self.sandbox.env())
        return env

    def start_patchbay(self, url: str) -> Server:
        port = free_port()
        server = Server(
            "patchbay",
            patchbay_command(port, self.workers),
            self.server_env(url, port),
            port,
            self.workdir,
        )
        say(f"starting patchbay serve --workers {self.workers} on port {port}")
        self.servers.append(server.start())
        return server

    def start_baseline(self, url: str, user_id: int, *, health: bool = True) -> Server:
        port = free_port()
        env = self.server_env(url, port)
        # A tree from before issue 12 (--src) answers no `health`: the baseline then serves none either.
        env["BENCH_BASELINE_HEALTH"] = "1" if health else "0"
        env["BENCH_BASELINE_DSN"] = driver_dsn(url)
        env["BENCH_BASELINE_KEY"] = self.keys.split(",")[0]
        env["BENCH_BASELINE_USER_ID"] = str(user_id)
        env["BENCH_SITE_URL"] = f"http://127.0.0.1:{port}"
        server = Server("baseline", baseline_command(port, self.workers), env, port, self.workdir)
        say(f"starting the baseline (uvicorn, {self.workers} workers) on port {port}")
        self.servers.append(server.start())
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    def stop_all(self) -> None:
        for server in list(self.servers):
            self.stop(server)
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def start_slack_sandbox(self) -> str | None:
        """The Slack sandbox with a workspace of 200 channels, for the channels run: its token."""
        try:
            from patchbay.providers.slack import simulator_api as slack_api
            from patchbay.sandbox.server import SandboxServer

            sandbox = SandboxServer().start()
            team = slack_api.seed_workspace(sandbox.state)
            for i in range(200):
                slack_api.add_channel(sandbox.state, f"channel-{i:03d}", team_id=team)
            token = slack_api.issue_token(sandbox.state, team_id=team)
        except Exception as exc:  # noqa: BLE001 - the channels run is optional
            self.notes.append(f"Slack channels run skipped: the Slack sandbox could not be set up ({exc!r}).")
            return None
        self.sandbox = sandbox
        return token
