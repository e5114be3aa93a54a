"""Shared by the Vercel and organization-integration tests: settings wired to the sandbox's Vercel,
and rows of organization integrations as the marketplace or the link flow leave them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select

from patchbay.config import Settings
from patchbay.models import Integration, Organization, OrganizationIntegration, Project, User
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer

ACCESS_SENTINEL = "vercel-SENTINEL-access-token"


def vercel_settings(make_settings: Any, sandbox_server: SandboxServer, **overrides: Any) -> Settings:
    kind_overrides = {
        "PATCHBAY_VERCEL_CLIENT_ID": sim.CLIENT_ID,
        "PATCHBAY_VERCEL_CLIENT_SECRET": sim.CLIENT_SECRET,
        **overrides.pop("kind_overrides", {}),
    }
    settings: Settings = make_settings(
        vercel_jwks_url=sandbox_server.base_url + "/vercel" + sim.JWKS_PATH,
        kind_overrides=kind_overrides,
        **overrides,
    )
    return settings


async def org_integration(
    runtime: Runtime,
    organization: Organization,
    *,
    installation_id: str | None = None,
    config: dict[str, Any] | None = None,
    access_token: str | None = ACCESS_SENTINEL,
    created_by: User | None = None,
) -> OrganizationIntegration:
    secrets = {"credentials": {"access_token": access_token, "token_type": "Bearer"}} if access_token else {}
    async with runtime.db.transaction() as session:
        row = OrganizationIntegration(
            organization_id=organization.id,
            kind="vercel",
            integration_id=installation_id or sim.new_installation_id(),
            config=config if config is not None else {"type": "connectable"},
            sensitive_config=runtime.keyring.encrypt_json(secrets),
            created_by_id=created_by.id if created_by else None,
        )
        session.add(row)
        await session.flush()
        return row


async def rows(runtime: Runtime, model: Any, *where: Any) -> list[Any]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(model).where(*where))).all())


async def vercel_project_integrations(runtime: Runtime, organization: Organization) -> list[Integration]:
    async with runtime.db.session() as session:
        stmt = (
            select(Integration)
            .join(Project, Project.id == Integration.project_id)
            .where(Project.organization_id == organization.id, Integration.kind == "vercel")
            .order_by(Integration.project_id)
        )
        return list((await session.scalars(stmt)).all())


@asynccontextmanager
async def client_with(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """An app on its own runtime (for settings the shared fixtures do not give). Use it in a test
    that also requests `runtime`, whose teardown empties the tables."""
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, runtime
    finally:
        await runtime.close()
