"""The baseline stays comparable: the same PostgreSQL session settings as Patchbay's engine, and its
create sends the very statements Patchbay's create sends."""

from __future__ import annotations

from bench.baseline import ENDPOINTS_SQL, UPSERT_SQL
from bench.baseline import SERVER_SETTINGS as BASELINE
from sqlalchemy.dialects.postgresql import asyncpg

from patchbay.integration.repository import _UPSERT
from patchbay.kit.db import SERVER_SETTINGS
from patchbay.webhook.outbox_repository import _PROJECT_ENDPOINTS


def _words(sql: str) -> list[str]:
    return sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()


def test_the_baseline_runs_with_the_engines_session_settings() -> None:
    assert {**BASELINE, "application_name": ""} == {**SERVER_SETTINGS, "application_name": ""}


def test_the_baseline_create_sends_patchbays_statements() -> None:
    dialect = asyncpg.dialect()
    assert _words(UPSERT_SQL) == _words(str(_UPSERT["postgresql"].statement.compile(dialect=dialect)))
    assert _words(ENDPOINTS_SQL) == _words(str(_PROJECT_ENDPOINTS.statement.compile(dialect=dialect)))
