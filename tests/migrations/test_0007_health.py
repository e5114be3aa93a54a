"""Migration 0007: existing rows get a health status from what the refresher recorded."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from patchbay.kit.db import create_engine
from patchbay.migrations import upgrade
from tests.migrations.test_history import SEED_ORG, empty_database  # noqa: F401 - the fixture

ROWS = {
    "AC-ok": ("", {}),
    "AC-down": ("TOKEN_REFRESH_FAILED", {"refresh_failure_count": 2}),
    "AC-refused": ("TOKEN_REFRESH_FAILED", {"refresh_invalid_grant_count": 1}),
    "AC-dead": ("TOKEN_REFRESH_FAILED", {"refresh_terminal": True}),
}


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO organizations (id, name, created_at) VALUES (:id, 'o', CURRENT_TIMESTAMP)"),
                {"id": SEED_ORG.hex if url.startswith("sqlite") else SEED_ORG},
            )
            await conn.execute(
                text(
                    "INSERT INTO projects (id, organization_id, name, api_token, created_at) "
                    "VALUES (1, :org, 'p', 'phc_1', CURRENT_TIMESTAMP)"
                ),
                {"org": SEED_ORG.hex if url.startswith("sqlite") else SEED_ORG},
            )
            for sid, (errors, config) in ROWS.items():
                await conn.execute(
                    text(
                        "INSERT INTO integrations (project_id, kind, integration_id, config, sensitive_config, "
                        "errors, created_at) VALUES (1, 'linear', :sid, :config, '', :errors, CURRENT_TIMESTAMP)"
                    ),
                    {"sid": sid, "config": json.dumps(config), "errors": errors},
                )
    finally:
        await engine.dispose()


async def _statuses(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT integration_id, health_status FROM integrations"))).all()
        return {str(r[0]): str(r[1]) for r in rows}
    finally:
        await engine.dispose()


def test_existing_rows_get_their_health(empty_database: str) -> None:  # noqa: F811
    upgrade(empty_database, "0006")
    asyncio.run(_seed(empty_database))
    upgrade(empty_database)
    assert asyncio.run(_statuses(empty_database)) == {
        "AC-ok": "unknown",
        "AC-down": "refresh_failed",
        "AC-refused": "reauthorization_required",
        "AC-dead": "reauthorization_required",
    }
