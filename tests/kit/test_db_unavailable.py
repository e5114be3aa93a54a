"""kit.db: PostgreSQL out of reach is told apart from a wrong statement (503 vs a bug), fast, and
the API answers it in the envelope (operations/middleware.py)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url, text

from patchbay.app import create_app
from patchbay.kit.db import Database, Timeouts, database_unavailable, driver_dsn
from patchbay.runtime import build_runtime

NOWHERE = "postgresql://postgres@127.0.0.1:9/nowhere"  # the discard port: refused at once


async def test_an_unreachable_server_is_unavailable_within_the_connect_timeout() -> None:
    db = Database(NOWHERE, timeouts=Timeouts(connect=1.0, pool=1.0, statement=1.0))
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
    assert time.monotonic() - started < 2
    assert database_unavailable(caught.value)
    assert db.driver is not None
    with pytest.raises(Exception) as driver_caught:
        await db.driver.fetch("SELECT 1", [])
    assert database_unavailable(driver_caught.value)
    await db.dispose()


async def test_a_wrong_statement_is_not_an_outage(backend: str, database_url: str) -> None:
    db = Database(database_url)
    with pytest.raises(Exception) as caught:
        async with db.session() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    assert not database_unavailable(caught.value)
    assert not database_unavailable(ValueError("x"))
    await db.dispose()


async def test_the_api_answers_503_database_unavailable(make_settings: Any) -> None:
    settings = make_settings(database_url=NOWHERE, db_connect_timeout=1.0, auth_cache=False)
    app = create_app(settings, build_runtime(settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        started = time.monotonic()
        response = await client.get(
            "/api/projects/1/integrations/", headers={"Authorization": "Bearer phx_" + "a" * 47}
        )
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {
        "type": "server_error",
        "code": "database_unavailable",
        "detail": "The database is unavailable. Please try again shortly.",
        "attr": None,
    }
    assert response.headers["retry-after"] == "1"
    await app.state.runtime.close()


async def test_a_server_refusing_more_clients_is_unavailable(
    backend: str, database_url: str, make_settings: Any
) -> None:
    """PostgreSQL's "too many clients" (SQLSTATE 53300) says: not now. It is a 503 with Retry-After
    like an outage, not a 500; a role allowed no connection at all gets the same refusal."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's connection limits")
    role = f"patchbay_full_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(driver_dsn(database_url))
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
        limited = make_url(database_url).set(username=role).render_as_string(hide_password=False)
        with pytest.raises(asyncpg.TooManyConnectionsError) as refused:
            await asyncpg.connect(driver_dsn(limited))
        assert database_unavailable(refused.value)
        settings = make_settings(database_url=limited, db_connect_timeout=1.0, auth_cache=False)
        app = create_app(settings, build_runtime(settings))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(
                "/api/projects/1/integrations/", headers={"Authorization": "Bearer phx_" + "a" * 47}
            )
        await app.state.runtime.close()
        assert response.status_code == 503
        assert response.json()["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "1"
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
