"""Creating connect sessions and reading what the connect pages say."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
from sqlalchemy import select, update

from patchbay.models import ConnectSession, Integration
from patchbay.runtime import Runtime
from tests.support.factory import Tenant


async def create_session(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post(f"{tenant.base}/connect_sessions/", json=body, headers=tenant.headers)


async def new_link(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> str:
    """The path of a fresh connect page (`/connect/pcs_…`)."""
    created = await create_session(client, tenant, **body)
    assert created.status_code == 201, created.text
    return "/connect/" + str(created.json()["token"])


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def field_error(html: str, kind: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="{kind}-{field}-error">(.*?)</p>', html, re.S)
    if found is None:
        return None
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).replace("⚠", "").strip()


def heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found, html
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


async def integrations(runtime: Runtime) -> list[Integration]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(Integration).order_by(Integration.id))).all())


async def sessions(runtime: Runtime) -> list[ConnectSession]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(ConnectSession).order_by(ConnectSession.id))).all())


async def expire_all(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            update(ConnectSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
