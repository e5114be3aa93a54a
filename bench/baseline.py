"""The baseline: the smallest honest server of the same list and create, on raw asyncpg, no auth.

It answers GET /api/projects/{project_id}/integrations with the same SQL (the page with a window
count, the creator joined) and the same JSON body as Patchbay's list, so the gap between the two is
what Patchbay's authentication, tenancy, framework and ORM cost. POST on the same path is
Patchbay's create of a databricks integration with the same statement (the upsert with the webhook
outbox's event and deliveries riding in it, committed on its own) and the same work around it (the
secret encrypted with Fernet, the answer and the event's body rendered, the answer completed with what
the statement returned), the creator being BENCH_BASELINE_USER_ID (read once). Run it as Patchbay runs:
`uvicorn bench.baseline:app --workers 2` with BENCH_BASELINE_DSN (and BENCH_BASELINE_KEY) set.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from patchbay.integration.display_name import display_name
from patchbay.providers.catalog import get_provider

_LIST_SQL = """
SELECT i.id, i.kind, i.integration_id, i.config, i.errors, i.created_at, i.created_by_id,{health}
       u.uuid AS cb_uuid, u.distinct_id AS cb_distinct_id, u.first_name AS cb_first_name,
       u.last_name AS cb_last_name, u.email AS cb_email, u.is_email_verified AS cb_is_email_verified,
       count(*) OVER () AS total
FROM integrations i LEFT OUTER JOIN users u ON u.id = i.created_by_id
WHERE i.project_id = $1
ORDER BY i.created_at, i.id
LIMIT $2 OFFSET $3
"""
# Patchbay answers a `health` object on every integration (issue 12): the baseline serves it too,
# unless the bench compares a tree from before it (BENCH_BASELINE_HEALTH=0).
WITH_HEALTH = os.environ.get("BENCH_BASELINE_HEALTH", "1") != "0"
LIST_SQL = _LIST_SQL.format(
    health="\n       i.health_status, i.health_detail, i.health_checked_at," if WITH_HEALTH else ""
)
_slack = get_provider("slack")
SLACK_REQUESTS_FILES_WRITE = _slack is not None and "files:write" in _slack.scope.split(",")
# Patchbay's create on PostgreSQL, as it sends it: one statement committed on its own, the upsert with
# the outbox's event and deliveries riding in it (patchbay.integration.repository.save_alone_statement
# with the webhook outbox's companion, compiled for asyncpg; tests/bench/test_baseline.py checks).
CREATE_SQL = """
WITH saved AS (
    INSERT INTO integrations (project_id, kind, integration_id, config, sensitive_config, errors,
                              created_at, created_by_id, health_status)
    VALUES ($1, $2, $3, CAST($4 AS jsonb), $5, '', $6, $7, $8)
    ON CONFLICT (project_id, kind, integration_id) DO UPDATE
    SET config = excluded.config, sensitive_config = excluded.sensitive_config, errors = '',
        created_by_id = excluded.created_by_id
    WHERE integrations.project_id = $1 AND $9
      AND integrations.health_status = excluded.health_status
      AND NOT EXISTS (
        SELECT 1 FROM webhook_endpoints
        WHERE webhook_endpoints.project_id = $1 AND webhook_endpoints.enabled IS true
          AND (webhook_endpoints.events ? '*' OR webhook_endpoints.events ? 'integration.updated'))
    RETURNING integrations.id, integrations.kind, integrations.integration_id, integrations.config,
              integrations.errors, integrations.created_at, integrations.created_by_id,
              integrations.health_status, integrations.health_detail, integrations.health_checked_at,
              xmax = 0 AS inserted
),
outbox_subscribers AS (
    SELECT webhook_endpoints.id FROM webhook_endpoints
    WHERE webhook_endpoints.project_id = $1 AND webhook_endpoints.enabled IS true
      AND (webhook_endpoints.events ? '*' OR webhook_endpoints.events ? 'integration.created')
), outbox_deliveries AS (
    INSERT INTO webhook_deliveries (id, event_id, event_type, body, event_created_at, endpoint_id, status, attempts,
     last_error, next_attempt_at, created_at)
    SELECT gen_random_uuid(), CAST($10 AS varchar), 'integration.created',
           CAST($11 AS text) || saved.id::text || CAST($12 AS text),
           CAST($13 AS timestamptz), outbox_subscribers.id, 'pending', 0, '',
           CAST($13 AS timestamptz), CAST($13 AS timestamptz)
    FROM saved CROSS JOIN outbox_subscribers WHERE saved.inserted
)
SELECT * FROM saved
"""
ORGANIZATION_SQL = "SELECT organization_id FROM projects WHERE id = $1"
_INTEGRATION_ID = b'"data":{"integration":{"id":0,'
USER_SQL = """
SELECT id AS created_by_id, uuid AS cb_uuid, distinct_id AS cb_distinct_id, first_name AS cb_first_name,
       last_name AS cb_last_name, email AS cb_email, is_email_verified AS cb_is_email_verified
FROM users WHERE id = $1
"""
SITE = os.environ.get("BENCH_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The session settings of Patchbay's engine (patchbay.kit.db.SERVER_SETTINGS, so the same plans),
# written out: importing kit.db would load SQLAlchemy into the baseline (~20 MB a worker).
SERVER_SETTINGS = {"application_name": "patchbay-baseline", "jit": "off", "random_page_cost": "1.1"}
POOL_MAX = 20  # Patchbay's engine: pool_size 10 + max_overflow 10 per worker


def _row(r: Any) -> dict[str, Any]:
    created_by = None
    if r["created_by_id"] is not None and r["cb_email"] is not None:
        created_by = {
            "id": r["created_by_id"],
            "uuid": str(r["cb_uuid"]),
            "distinct_id": r["cb_distinct_id"],
            "first_name": r["cb_first_name"],
            "last_name": r["cb_last_name"],
            "email": r["cb_email"],
            "is_email_verified": r["cb_is_email_verified"],
            "hedgehog_config": None,
            "role_at_organization": None,
        }
    config = r["config"] if r["config"] is not None else {}
    body = {
        "id": r["id"],
        "kind": r["kind"],
        "config": config,
        "created_at": r["created_at"].isoformat().replace("+00:00", "Z"),
        "created_by": created_by,
        "errors": r["errors"] or "",
        "display_name": display_name(
            r["kind"], r["integration_id"], config if isinstance(config, dict) else {}
        ),
        "files_write_requestable": r["kind"] == "slack" and SLACK_REQUESTS_FILES_WRITE,
        "installation_shared": None,
        "installation_status": None,
    }
    if WITH_HEALTH:
        body["health"] = _health(r, config if isinstance(config, dict) else {})
    return body


def _iso(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


def _health(r: asyncpg.Record, config: dict[str, Any]) -> dict[str, Any]:
    refreshed_at, expires_in = config.get("refreshed_at"), config.get("expires_in")
    refreshed = float(refreshed_at) if isinstance(refreshed_at, int | float) else None
    checked = r["health_checked_at"]
    return {
        "status": r["health_status"],
        "detail": r["health_detail"],
        "expires_at": _iso(refreshed + float(expires_in))
        if refreshed is not None and isinstance(expires_in, int | float)
        else None,
        "last_refreshed_at": _iso(refreshed) if refreshed is not None else None,
        "last_checked_at": checked.isoformat().replace("+00:00", "Z") if checked is not None else None,
    }


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: orjson.dumps(v).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
        format="text",
    )


async def _no_reset(conn: asyncpg.Connection) -> None:
    """As Patchbay's driver pool (patchbay.kit.driver): no RESET ALL round trip when a connection
    goes back to the pool, so the baseline stays the limit of the stack, not asyncpg's defaults."""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.fernet = Fernet(os.environ.get("BENCH_BASELINE_KEY") or Fernet.generate_key())
    app.state.creator = None
    app.state.organizations = {}
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_BASELINE_DSN"],
        min_size=1,
        max_size=POOL_MAX,
        init=_init,
        reset=_no_reset,
        max_inactive_connection_lifetime=0,  # as Patchbay's driver pool
        server_settings=SERVER_SETTINGS,
    )
    yield
    await app.state.pool.close()


async def list_integrations(request: Request) -> Response:
    project_id = int(request.path_params["project_id"])
    limit, offset = 100, 0
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(LIST_SQL, project_id, limit, offset)
    count = rows[0]["total"] if rows else 0
    next_url = (
        f"{SITE}{request.url.path}?limit={limit}&offset={offset + limit}" if offset + limit < count else None
    )
    body = {"count": count, "next": next_url, "previous": None, "results": [_row(r) for r in rows]}
    return Response(orjson.dumps(body), media_type="application/json")


def _bad(detail: str) -> Response:
    body = {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": None}
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")


async def create_integration(request: Request) -> Response:
    """A databricks create: validate, encrypt, upsert and look up endpoints in one transaction."""
    project_id = int(request.path_params["project_id"])
    body = orjson.loads(await request.body())
    config = body.get("config") or {}
    hostname, client_id, secret = (config.get(k) for k in ("server_hostname", "client_id", "client_secret"))
    if body.get("kind") != "databricks" or not all(
        isinstance(v, str) and v for v in (hostname, client_id, secret)
    ):
        return _bad("Server hostname, client ID, and client secret must be provided")
    try:
        if not ipaddress.ip_address(hostname).is_global:
            return _bad(f"Databricks integration error: could not validate hostname '{hostname}'")
    except ValueError:
        return _bad(f"Databricks integration error: could not validate hostname '{hostname}'")
    sealed = request.app.state.fernet.encrypt(
        orjson.dumps({"client_id": client_id, "client_secret": secret})
    ).decode()
    user_id = int(os.environ.get("BENCH_BASELINE_USER_ID", "0")) or None
    now = datetime.now(UTC)
    async with request.app.state.pool.acquire() as conn:
        # Patchbay knows both from its caller lookup (cached): read once here.
        if request.app.state.creator is None and user_id is not None:
            request.app.state.creator = dict(await conn.fetchrow(USER_SQL, user_id))
        organizations = request.app.state.organizations
        if project_id not in organizations:
            organizations[project_id] = str(await conn.fetchval(ORGANIZATION_SQL, project_id))
        creator = request.app.state.creator or {"cb_email": None}
        # The answer if the row is inserted, and the event's body around its id (as Patchbay).
        new_row = {
            "id": 0, "kind": "databricks", "integration_id": hostname, "config": {"server_hostname": hostname},
            "errors": "", "created_at": now, "created_by_id": user_id, "health_status": "unknown",
            "health_detail": None, "health_checked_at": None, **creator,
        }  # fmt: skip
        if_inserted = _row(new_row)
        event_id = "evt_" + secrets.token_hex(12)
        body = orjson.dumps(
            {
                "id": event_id, "type": "integration.created", "created_at": now, "project_id": project_id,
                "organization_id": organizations[project_id], "data": {"integration": if_inserted},
            },
            option=orjson.OPT_UTC_Z,
        )  # fmt: skip
        at = body.index(_INTEGRATION_ID) + len(_INTEGRATION_ID) - 2
        row = await conn.fetchrow(
            CREATE_SQL, project_id, "databricks", hostname, {"server_hostname": hostname}, sealed, now,
            user_id, "unknown", True, event_id, body[:at].decode(), body[at + 1 :].decode(), now,
        )  # fmt: skip
    if row is None:
        return _bad("The row was left alone (Patchbay would take its session's path).")
    answer = {**if_inserted, "id": row["id"]} if row["inserted"] else _row({**dict(row), **creator})
    return Response(orjson.dumps(answer), status_code=201, media_type="application/json")


async def integrations(request: Request) -> Response:
    if request.method == "POST":
        return await create_integration(request)
    return await list_integrations(request)


app = Starlette(
    routes=[
        Route("/api/projects/{project_id:int}/integrations/", integrations, methods=["GET", "POST"]),
        Route("/api/projects/{project_id:int}/integrations", integrations, methods=["GET", "POST"]),
        Route("/_health", lambda request: Response(b"ok")),
    ],
    lifespan=lifespan,
)
