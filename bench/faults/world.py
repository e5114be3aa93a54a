"""What every drill runs against: its own PostgreSQL and Redis, the provider sandbox, a seeded
database, and `patchbay serve --workers 2` on top of them, with steady load from bench.faults.traffic.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from cryptography.fernet import Fernet

from bench.faults.services import PostgresCluster, RedisServer
from bench.faults.traffic import Stream, Traffic, http_request
from bench.seed import BENCH_PROJECT_ROWS, Seeder, SeedPlan
from bench.servers import REPO, Server, free_port, patchbay_command
from patchbay.auth.keys import generate_key_value, hash_key_value, mask_key_value, random_token
from patchbay.kit.crypto import KeyRing

STORM_INTEGRATIONS = 24  # Slack integrations a channels storm spreads over (nothing cached on failure)
HTTP_TIMEOUT = 2.0  # PATCHBAY_HTTP_TIMEOUT for the drills: a hanging provider costs this per attempt


def say(message: str) -> None:
    sys.stderr.write(f"[faults] {message}\n")
    sys.stderr.flush()


class World:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="patchbay-faults-"))
        self.keys = Fernet.generate_key().decode()
        self.pg = PostgresCluster()
        self.redis = RedisServer()
        self.sandbox: Any = None
        self.server: Server | None = None
        self.traffic: Traffic | None = None
        self.api_key = ""
        self.project_id = 0
        self.storm_ids: list[int] = []
        self.refresh_ids: dict[str, int] = {}
        self._create_base = 10

    # --- set-up and tear-down ------------------------------------------------------------------------
    def setup(self) -> World:
        from patchbay.migrations import upgrade
        from patchbay.providers.slack import simulator_api as slack_api
        from patchbay.sandbox.server import SandboxServer

        say(f"PostgreSQL cluster on port {self.pg.port}, redis-server on port {self.redis.port}")
        self.pg.init()
        self.redis.start()
        self.sandbox = SandboxServer().start()
        self.team = slack_api.seed_workspace(self.sandbox.state)
        for i in range(50):
            slack_api.add_channel(self.sandbox.state, f"channel-{i:03d}", team_id=self.team)
        token = slack_api.issue_token(self.sandbox.state, team_id=self.team)
        upgrade(self.pg.url)
        seeded = asyncio.run(
            Seeder(self.pg.url, KeyRing.from_string(self.keys)).seed(
                SeedPlan(2, 2, BENCH_PROJECT_ROWS), BENCH_PROJECT_ROWS, token
            )
        )
        self.api_key, self.project_id, self.user_id = seeded.api_key, seeded.project_id, seeded.user_id
        asyncio.run(self._seed_slack(seeded.slack_id))
        self.start_server()
        self.traffic = Traffic(self.server_port)
        return self

    async def _seed_slack(self, slack_id: int) -> None:
        keyring = KeyRing.from_string(self.keys)
        conn = await asyncpg.connect(self.pg.url)
        try:
            rows = await conn.fetch(
                "INSERT INTO integrations (project_id, kind, integration_id, config, sensitive_config, errors,"
                " created_at, created_by_id) SELECT project_id, kind, 'TSTORM' || g, config, sensitive_config,"
                " '', created_at, created_by_id FROM integrations, generate_series(1, $2) g WHERE id = $1"
                " RETURNING id",
                slack_id,
                STORM_INTEGRATIONS,
            )
            self.storm_ids = [r["id"] for r in rows]
            # Tokens past their expiry with a valid refresh token: every request must refresh first.
            for name in ("redis", "provider", "sigterm"):
                access, refresh = self.sandbox.state.issue_tokens(
                    "slack", "slack", {"team_id": self.team, "user_id": "U0INSTALLER"}, prefix="xoxe"
                )
                config = {"team": {"id": self.team, "name": "Drill"}, "authed_user": {"id": "U0INSTALLER"},
                          "expires_in": 3600, "refreshed_at": int(time.time()) - 3590}  # fmt: skip
                secret = keyring.encrypt_json({"access_token": access, "refresh_token": refresh})
                self.refresh_ids[name] = await conn.fetchval(
                    "INSERT INTO integrations (project_id, kind, integration_id, config, sensitive_config,"
                    " errors, created_at, created_by_id) VALUES ($1, 'slack', $2, $3::jsonb, $4, '', $5, $6)"
                    " RETURNING id",
                    self.project_id, f"TREFRESH-{name}", orjson.dumps(config).decode(), secret,
                    datetime.now(UTC), self.user_id,
                )  # fmt: skip
        finally:
            await conn.close()

    def start_server(self) -> None:
        port = free_port()
        (self.workdir / "metrics").mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
        env.update(self.sandbox.env())
        env.update(
            {
                "PATCHBAY_DATABASE_URL": self.pg.url,
                "PATCHBAY_ENCRYPTION_KEYS": self.keys,
                "PATCHBAY_REDIS_URL": self.redis.url,
                "PATCHBAY_REDIS_KEY_PREFIX": f"drill-{secrets.token_hex(3)}:",
                # On, and far above the drills' load: the limiter is exercised (Redis, then memory).
                "PATCHBAY_RATE_LIMIT": "1000000/minute",
                "PATCHBAY_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
                "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
                "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
                "PYTHONFAULTHANDLER": "1",  # a worker that crashes says where, in the kept log
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
            }
        )
        say(f"starting patchbay serve --workers 2 on port {port}")
        self.server = Server("patchbay", patchbay_command(port, 2), env, port, self.workdir).start()
        self.server_port = port

    def teardown(self) -> None:
        if self.traffic is not None:
            self.traffic.close()
        if self.server is not None:
            self.server.stop()
            # Kept for a look after the run (the work directory goes).
            shutil.copy(self.server.log_path, Path(tempfile.gettempdir()) / "patchbay-faults-server.log")
        if self.sandbox is not None:
            self.sandbox.stop()
        self.redis.stop()
        self.pg.destroy()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- requests ----------------------------------------------------------------------------------
    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def path(self, suffix: str = "") -> str:
        return f"/api/projects/{self.project_id}/integrations/{suffix}"

    def list_stream(self) -> Stream:
        raw = http_request(self.server_port, "GET", self.path(), self.auth)
        return Stream("list", connections=4, interval=0.02, make=lambda _n: (raw, ""))

    def create_stream(self) -> Stream:
        """Creates of distinct accounts (a databricks workspace each, IP-literal hosts: no DNS)."""
        self._create_base += 1
        base = self._create_base

        def make(n: int) -> tuple[bytes, str]:
            host = f"52.{base}.{n // 256 % 256}.{n % 256}"
            body = {"kind": "databricks",
                    "config": {"server_hostname": host, "client_id": "drill", "client_secret": "drill-secret"}}  # fmt: skip
            return http_request(self.server_port, "POST", self.path(), self.auth, body), host

        return Stream("create", connections=2, interval=0.03, make=make)

    def channels_stream(
        self, ids: list[int], connections: int, name: str = "channels", interval: float = 0.0
    ) -> Stream:
        requests = [
            http_request(self.server_port, "GET", self.path(f"{pk}/channels/"), self.auth) for pk in ids
        ]
        return Stream(
            name, connections=connections, interval=interval, make=lambda n: (requests[n % len(requests)], "")
        )

    def proxy_stream(self, ids: list[int], connections: int, path: str, interval: float = 0.0) -> Stream:
        """Proxy calls (`GET …/integrations/{id}/proxy/{path}`) spread over the integrations `ids`."""
        requests = [
            http_request(self.server_port, "GET", self.path(f"{pk}/proxy/{path}"), self.auth) for pk in ids
        ]
        return Stream(
            "proxy",
            connections=connections,
            interval=interval,
            make=lambda n: (requests[n % len(requests)], ""),
        )

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.api_key}"}
        return httpx.get(f"http://127.0.0.1:{self.server_port}{path}", headers=headers, timeout=10)

    # --- what PostgreSQL holds ---------------------------------------------------------------------
    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.pg.url, timeout=5)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    def stored_hosts(self, hosts: list[str]) -> set[str]:
        rows = asyncio.run(
            self.sql(
                "SELECT integration_id FROM integrations WHERE kind = 'databricks' AND integration_id = ANY($1)",
                hosts,
            )
        )
        return {r["integration_id"] for r in rows}

    def new_key(self) -> str:
        value = generate_key_value()
        asyncio.run(
            self.sql(
                "INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes, created_at)"
                " VALUES ($1, $2, 'drill', $3, $4, '[\"*\"]', now())",
                random_token(24), self.user_id, mask_key_value(value), hash_key_value(value),
            )
        )  # fmt: skip
        return value

    def delete_key(self, value: str) -> None:
        asyncio.run(self.sql("DELETE FROM personal_api_keys WHERE secure_value = $1", hash_key_value(value)))

    def listeners(self) -> int:
        """LISTEN connections open (two per worker: the caller cache and webhook wake-ups)."""
        rows = asyncio.run(
            self.sql("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'patchbay-listen'")
        )
        return int(rows[0]["n"])

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.server_port}/metrics", timeout=10).text

    def server_log(self) -> str:
        assert self.server is not None
        return self.server.log_path.read_text(errors="replace")
