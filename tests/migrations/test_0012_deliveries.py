"""Migration 0012: each delivery takes its event's type, body and time, the events table goes, and
the downgrade rebuilds one event per event id."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import text

from patchbay.kit.db import create_engine
from patchbay.migrations import alembic_config, upgrade
from tests.migrations.test_history import SEED_ORG, empty_database  # noqa: F401 - the fixture

ENDPOINTS = (uuid.UUID(int=1), uuid.UUID(int=2))
# (delivery, event): evt_a went to both endpoints, evt_b to the first only.
DELIVERIES = (
    (uuid.UUID(int=11), "evt_a", 0),
    (uuid.UUID(int=12), "evt_a", 1),
    (uuid.UUID(int=13), "evt_b", 0),
)
EVENTS = {"evt_a": ("integration.created", '{"id":"evt_a"}'), "evt_b": ("ping", '{"id":"evt_b"}')}


def _id(value: uuid.UUID, url: str) -> object:
    return value.hex if url.startswith("sqlite") else value


async def _run(url: str, *statements: tuple[str, dict[str, object]]) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for sql, params in statements:
                result = await conn.execute(text(sql), params)
                rows = [tuple(r) for r in result.all()] if result.returns_rows else []
            return rows
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    org = _id(SEED_ORG, url)
    statements: list[tuple[str, dict[str, object]]] = [
        ("INSERT INTO organizations (id, name, created_at) VALUES (:id, 'o', CURRENT_TIMESTAMP)", {"id": org}),
        ("INSERT INTO projects (id, organization_id, name, api_token, created_at) "
         "VALUES (1, :org, 'p', 'phc_1', CURRENT_TIMESTAMP)", {"org": org}),
    ]  # fmt: skip
    for endpoint in ENDPOINTS:
        statements.append((
            "INSERT INTO webhook_endpoints (id, project_id, url, events, description, enabled, disabled_reason, "
            "secret, previous_secret, created_at, updated_at) VALUES (:id, 1, 'https://example.com', '[\"*\"]', "
            "'', true, '', 's', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", {"id": _id(endpoint, url)},
        ))  # fmt: skip
    for event_id, (event_type, body) in EVENTS.items():
        statements.append((
            "INSERT INTO webhook_events (id, project_id, type, body, created_at) "
            "VALUES (:id, 1, :type, :body, '2026-11-01 10:00:00+00:00')",
            {"id": event_id, "type": event_type, "body": body},
        ))  # fmt: skip
    for delivery, event_id, endpoint in DELIVERIES:
        statements.append((
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, last_error, "
            "next_attempt_at, created_at) VALUES (:id, :event, :endpoint, 'pending', 0, '', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            {"id": _id(delivery, url), "event": event_id, "endpoint": _id(ENDPOINTS[endpoint], url)},
        ))  # fmt: skip
    await _run(url, *statements)


def test_deliveries_take_their_event_and_the_downgrade_rebuilds_it(empty_database: str) -> None:  # noqa: F811
    upgrade(empty_database, "0011")
    asyncio.run(_seed(empty_database))
    upgrade(empty_database)
    carried = asyncio.run(
        _run(
            empty_database,
            ("SELECT event_id, event_type, body, event_created_at FROM webhook_deliveries", {}),
        )
    )
    assert sorted((r[0], r[1], r[2]) for r in carried) == [
        ("evt_a", *EVENTS["evt_a"]), ("evt_a", *EVENTS["evt_a"]), ("evt_b", *EVENTS["evt_b"]),
    ]  # fmt: skip
    assert all(str(r[3]).startswith("2026-11-01 10:00:00") for r in carried)
    tables = (
        "SELECT count(*) FROM sqlite_master WHERE name = 'webhook_events'"
        if empty_database.startswith("sqlite")
        else "SELECT count(*) FROM pg_class WHERE relname = 'webhook_events'"
    )
    assert asyncio.run(_run(empty_database, (tables, {}))) == [(0,)]

    command.downgrade(alembic_config(empty_database), "0011")
    events = asyncio.run(_run(empty_database, ("SELECT id, project_id, type, body FROM webhook_events", {})))
    assert sorted(events) == [("evt_a", 1, *EVENTS["evt_a"]), ("evt_b", 1, *EVENTS["evt_b"])]
    left = asyncio.run(_run(empty_database, ("SELECT count(*) FROM webhook_deliveries", {})))
    assert left == [(3,)]
