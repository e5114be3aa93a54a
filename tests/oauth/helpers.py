"""Driving an OAuth connection end to end: Patchbay's authorize -> the sandbox provider -> back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from patchbay.models import Integration
from patchbay.runtime import Runtime
from tests.support.factory import Tenant


@dataclass
class Consent:
    """What the provider sent the browser back with."""

    authorize_location: str
    callback_path: str
    code: str | None
    state: str
    error: str | None
    cookie: str | None


async def start(
    client: httpx.AsyncClient, tenant: Tenant, kind: str, next_url: str = "/done"
) -> httpx.Response:
    return await client.get(
        f"{tenant.base}/integrations/authorize/",
        params={"kind": kind, "next": next_url},
        headers=tenant.headers,
    )


async def consent(client: httpx.AsyncClient, tenant: Tenant, kind: str, next_url: str = "/done") -> Consent:
    """Start at Patchbay, let the sandbox 'approve', stop before the callback reaches Patchbay."""
    response = await start(client, tenant, kind, next_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    async with httpx.AsyncClient() as browser:
        provider = await browser.get(location)
    assert provider.status_code == 302, provider.text
    back = urlsplit(provider.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    return Consent(
        authorize_location=location,
        callback_path=f"{back.path}?{back.query}",
        code=query.get("code"),
        state=query["state"],
        error=query.get("error"),
        cookie=response.cookies.get("ph_oauth_state"),
    )


async def connect(client: httpx.AsyncClient, tenant: Tenant, kind: str, next_url: str = "/done") -> int:
    """The whole browser flow; returns the new integration's id (from the redirect to next)."""
    given = await consent(client, tenant, kind, next_url)
    finished = await client.get(given.callback_path)
    assert finished.status_code == 302, finished.text
    target = urlsplit(finished.headers["location"])
    assert target.path == urlsplit(next_url).path
    return int(parse_qs(target.query)["integration_id"][0])


async def connect_over_http(
    http: httpx.AsyncClient, base: str, project: int, kind: str, headers: dict[str, str]
) -> int:
    """The browser flow against a served Patchbay (`base`): authorize, consent, callback; returns
    the new integration's id."""
    start = await http.get(
        f"{base}/api/projects/{project}/integrations/authorize/",
        params={"kind": kind, "next": "/done"},
        headers=headers,
    )
    assert start.status_code == 302, start.text
    consent_page = await http.get(start.headers["location"])
    finished = await http.get(consent_page.headers["location"])
    assert finished.status_code == 302, finished.text
    return int(parse_qs(urlsplit(finished.headers["location"]).query)["integration_id"][0])


async def row(runtime: Runtime, pk: int) -> Integration:
    async with runtime.db.session() as session:
        found = await session.scalar(select(Integration).where(Integration.id == pk))
    assert found is not None
    return found


async def rows(runtime: Runtime) -> list[Integration]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(Integration).order_by(Integration.id))).all())


def secrets_of(runtime: Runtime, integration: Integration) -> dict[str, Any]:
    return runtime.keyring.decrypt_json(integration.sensitive_config)
