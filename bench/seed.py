"""Seeds the benchmark database quickly: asyncpg COPY in chunks, progress on stderr.

Shape: `orgs` organizations, each with one owner and one member (users), one API key per user,
`projects` projects spread over the organizations, and integrations spread over the projects. The
benchmarked tenant is organization 0's owner with project 1 (their current project), whose key value
is known; it holds exactly `BENCH_PROJECT_ROWS` integrations, among them the databricks row that the
upsert run overwrites and the Slack row that the channels run reads.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from patchbay.auth.keys import generate_key_value, hash_key_value, mask_key_value, random_token
from patchbay.kit.crypto import KeyRing
from patchbay.kit.db import driver_dsn

BENCH_PROJECT_ID = 1
BENCH_PROJECT_ROWS = 50
UPSERT_HOSTNAME = "52.1.2.3"  # an IP-literal public host: databricks validates it without DNS
CHUNK = 50_000
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

OTHER_KINDS = ("slack", "twilio", "databricks", "hubspot", "linear", "clickup", "salesforce", "google-pubsub")


@dataclass
class SeedPlan:
    orgs: int
    projects: int
    integrations: int  # in the whole table, the benchmarked project's included


@dataclass
class Seeded:
    api_key: str
    user_id: int
    project_id: int
    retrieve_id: int
    slack_id: int
    slack_token: str
    integrations: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def progress(label: str, done: int, total: int, started: float) -> None:
    pct = 100.0 * done / total if total else 100.0
    rate = done / max(time.perf_counter() - started, 1e-6)
    sys.stderr.write(f"\r  seeding {label}: {done:,}/{total:,} ({pct:5.1f}%, {rate:,.0f} rows/s)   ")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _config_for(kind: str, n: int) -> tuple[str, dict[str, Any]]:
    """(integration_id, config) shaped like what each kind stores."""
    if kind == "slack":
        team = f"T{n:08d}"
        return team, {
            "team": {"id": team, "name": f"Workspace {n}"},
            "authed_user": {"id": f"U{n:08d}"},
            "scope": "channels:read,chat:write,groups:read,users:read",
            "bot_user_id": f"B{n:08d}",
        }
    if kind == "twilio":
        sid = f"AC{n:032x}"
        return sid, {"account_sid": sid, "phone_numbers": []}
    if kind == "databricks":
        host = f"dbc-{n:08x}.cloud.databricks.com"
        return host, {"server_hostname": host}
    if kind == "hubspot":
        return str(10_000_000 + n), {"hub_domain": f"company{n}.example.com", "hub_id": 10_000_000 + n}
    if kind == "linear":
        return f"lin-{n}", {"data": {"viewer": {"organization": {"name": f"Org {n}"}}}}
    if kind == "clickup":
        return f"cu-{n}", {"user": {"email": f"owner{n}@example.com"}}
    if kind == "salesforce":
        return f"sf-{n}", {"instance_url": f"https://company{n}.my.salesforce.com"}
    return f"projects/p{n}/topics/t", {"project_id": f"p{n}"}


class Seeder:
    """Writes the data set in an empty, migrated database and tops integrations up later."""

    def __init__(self, url: str, keyring: KeyRing) -> None:
        self.dsn = driver_dsn(url)
        self.keyring = keyring
        self._secrets = {k: keyring.encrypt_json({"access_token": f"secret-{k}"}) for k in OTHER_KINDS}
        self.plan: SeedPlan | None = None
        self.owner_of_project: list[int] = []  # index = project id
        self.next_integration_id = 1
        self.rows = 0

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.dsn)
        await conn.execute("SET synchronous_commit = off")
        return conn

    async def is_empty(self) -> bool:
        conn = await asyncpg.connect(self.dsn)
        try:
            return not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM organizations)")
        finally:
            await conn.close()

    async def seed(self, plan: SeedPlan, initial_integrations: int, slack_token: str) -> Seeded:
        """Tenancy (orgs, users, memberships, keys, projects) and `initial_integrations` rows."""
        self.plan = plan
        conn = await self._connect()
        started = time.perf_counter()
        try:
            org_ids = [uuid.uuid4() for _ in range(plan.orgs)]
            await self._copy(
                conn,
                "organizations",
                ["id", "name", "created_at"],
                ((org_ids[i], f"Organization {i}", EPOCH) for i in range(plan.orgs)),
                plan.orgs,
            )
            # Users: 2 per organization (owner, member); user ids are 1-based in that order.
            n_users = plan.orgs * 2
            # Projects: project p (1-based) belongs to organization (p - 1) % orgs.
            project_org = [0] + [(p - 1) % plan.orgs for p in range(1, plan.projects + 1)]
            first_project_of_org: dict[int, int] = {}
            for p in range(1, plan.projects + 1):
                first_project_of_org.setdefault(project_org[p], p)
            await self._copy(
                conn,
                "projects",
                ["id", "organization_id", "name", "api_token", "created_at"],
                (
                    (p, org_ids[project_org[p]], f"Project {p}", "phc_" + random_token(32), EPOCH)
                    for p in range(1, plan.projects + 1)
                ),
                plan.projects,
            )

            def users() -> Any:
                for u in range(1, n_users + 1):
                    org = (u - 1) // 2
                    yield (
                        u,
                        uuid.uuid4(),
                        f"user{u}@bench.example.com",
                        f"First{u}",
                        f"Last{u}",
                        random_token(24),
                        True,
                        True,
                        org_ids[org],
                        first_project_of_org.get(org),
                        EPOCH,
                    )

            await self._copy(
                conn,
                "users",
                [
                    "id",
                    "uuid",
                    "email",
                    "first_name",
                    "last_name",
                    "distinct_id",
                    "is_email_verified",
                    "is_active",
                    "current_organization_id",
                    "current_project_id",
                    "created_at",
                ],  # fmt: skip
                users(),
                n_users,
            )
            await self._copy(
                conn,
                "organization_memberships",
                ["id", "organization_id", "user_id", "level", "created_at"],
                (
                    (u, org_ids[(u - 1) // 2], u, 15 if u % 2 == 1 else 1, EPOCH)
                    for u in range(1, n_users + 1)
                ),
                n_users,
            )
            bench_key = generate_key_value()

            def keys() -> Any:
                for u in range(1, n_users + 1):
                    value = bench_key if u == 1 else generate_key_value()
                    yield (
                        random_token(24),
                        u,
                        "bench",
                        mask_key_value(value),
                        hash_key_value(value),
                        '["*"]',
                        None,
                        None,
                        EPOCH,
                        None,
                    )

            await self._copy(
                conn,
                "personal_api_keys",
                [
                    "id",
                    "user_id",
                    "label",
                    "mask_value",
                    "secure_value",
                    "scopes",
                    "scoped_projects",
                    "scoped_organizations",
                    "created_at",
                    "last_used_at",
                ],  # fmt: skip
                keys(),
                n_users,
            )
            # Owner (user id) of each project: the owner of its organization.
            self.owner_of_project = [0] + [project_org[p] * 2 + 1 for p in range(1, plan.projects + 1)]
            seeded = await self._seed_bench_project(conn, bench_key, slack_token)
            await self._copy_integrations(conn, initial_integrations - BENCH_PROJECT_ROWS)
            await self._fix_sequences(conn)
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        seeded.integrations = self.rows
        seeded.timings["seed_s"] = time.perf_counter() - started
        return seeded

    async def _seed_bench_project(self, conn: asyncpg.Connection, bench_key: str, slack_token: str) -> Seeded:
        rows = []
        kinds = ["slack", "databricks"] + [
            OTHER_KINDS[i % len(OTHER_KINDS)] for i in range(BENCH_PROJECT_ROWS - 2)
        ]
        ids: dict[str, int] = {}
        for i, kind in enumerate(kinds):
            pk = self.next_integration_id
            self.next_integration_id += 1
            if i == 0:
                integration_id, config = _config_for("slack", 0)
                secret = self.keyring.encrypt_json({"access_token": slack_token})
                ids["slack"] = pk
            elif i == 1:
                integration_id, config = UPSERT_HOSTNAME, {"server_hostname": UPSERT_HOSTNAME}
                secret = self.keyring.encrypt_json({"client_id": "bench", "client_secret": "bench-secret"})
            else:
                integration_id, config = _config_for(kind, 1_000_000_000 + i)
                secret = self._secrets[kind]
                ids.setdefault("retrieve", pk)
            rows.append(
                (pk, BENCH_PROJECT_ID, kind, integration_id, orjson.dumps(config).decode(), secret, "",
                 EPOCH + timedelta(seconds=i), 1)
            )  # fmt: skip
        await conn.copy_records_to_table("integrations", records=rows, columns=INTEGRATION_COLUMNS)
        self.rows += len(rows)
        return Seeded(
            api_key=bench_key,
            user_id=1,
            project_id=BENCH_PROJECT_ID,
            retrieve_id=ids["retrieve"],
            slack_id=ids["slack"],
            slack_token=slack_token,
        )

    async def top_up(self, total: int) -> float:
        """Add integrations (on projects other than the benchmarked one) until the table holds `total`."""
        started = time.perf_counter()
        conn = await self._connect()
        try:
            # The create runs added rows through the API, with ids from the table's sequence.
            count, last_id = await conn.fetchrow("SELECT count(*), COALESCE(max(id), 0) FROM integrations")
            self.rows = count
            self.next_integration_id = max(self.next_integration_id, last_id + 1)
            await self._copy_integrations(conn, total - self.rows)
            await self._fix_sequences(conn)
            await conn.execute("VACUUM (ANALYZE) integrations")
        finally:
            await conn.close()
        return time.perf_counter() - started

    async def _copy_integrations(self, conn: asyncpg.Connection, count: int) -> None:
        if count <= 0:
            return
        assert self.plan is not None
        other_projects = self.plan.projects - 1
        start_id = self.next_integration_id

        def rows() -> Any:
            for n in range(start_id, start_id + count):
                project = 2 + (n % other_projects) if other_projects else BENCH_PROJECT_ID
                kind = OTHER_KINDS[n % len(OTHER_KINDS)]
                integration_id, config = _config_for(kind, n)
                yield (
                    n,
                    project,
                    kind,
                    integration_id,
                    orjson.dumps(config).decode(),
                    self._secrets[kind],
                    "",
                    EPOCH + timedelta(seconds=n),
                    self.owner_of_project[project],
                )

        await self._copy(conn, "integrations", INTEGRATION_COLUMNS, rows(), count)
        self.next_integration_id += count
        self.rows += count

    async def _copy(
        self, conn: asyncpg.Connection, table: str, columns: list[str], rows: Any, total: int
    ) -> None:
        started = time.perf_counter()
        done = 0
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                await conn.copy_records_to_table(table, records=batch, columns=columns)
                done += len(batch)
                batch = []
                progress(table, done, total, started)
        if batch:
            await conn.copy_records_to_table(table, records=batch, columns=columns)
            done += len(batch)
        progress(table, done, total, started)

    async def _fix_sequences(self, conn: asyncpg.Connection) -> None:
        for table in ("projects", "users", "organization_memberships", "integrations"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


INTEGRATION_COLUMNS = [
    "id", "project_id", "kind", "integration_id", "config", "sensitive_config", "errors", "created_at",
    "created_by_id",
]  # fmt: skip
