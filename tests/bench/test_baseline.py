"""The baseline stays comparable: the same PostgreSQL session settings as Patchbay's engine, and its
create sends the very statements Patchbay's create sends."""

from __future__ import annotations

from bench.baseline import CREATE_SQL
from bench.baseline import SERVER_SETTINGS as BASELINE
from sqlalchemy.dialects.postgresql import asyncpg

import patchbay.routing  # noqa: F401 - registers every change hook, the webhook outbox's included
from patchbay.integration import events
from patchbay.integration.repository import save_alone_statement
from patchbay.kit.db import SERVER_SETTINGS


def _words(sql: str) -> list[str]:
    return sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()


def test_the_baseline_runs_with_the_engines_session_settings() -> None:
    assert {**BASELINE, "application_name": ""} == {**SERVER_SETTINGS, "application_name": ""}


def test_the_baseline_create_sends_patchbays_statements() -> None:
    companions = events.change_companions()
    assert companions is not None, "every change hook rides in the create's statement"
    sql, _names = save_alone_statement(companions).compiled(asyncpg.dialect())
    assert _words(CREATE_SQL) == _words(sql)
    assert "webhook_deliveries" in sql
