"""Integrations wired to the sandbox simulators, created straight through the factory."""

from __future__ import annotations

from typing import Any

from patchbay.models import Integration
from patchbay.providers.clickup import simulator_api as clickup_api
from patchbay.providers.linear import simulator_api as linear_api
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant

INSTALLER = "U0INSTALLER"
TEAM = slack_api.DEFAULT_TEAM_ID


async def slack_integration(
    factory: Factory,
    sandbox: SandboxServer,
    tenant: Tenant,
    *,
    token: str | None = None,
    authed_user: str | None = INSTALLER,
    created_by: Any = "tenant",
    scopes: list[str] | None = None,
) -> tuple[Integration, str]:
    token = token or slack_api.issue_token(sandbox.state, user_id=INSTALLER, scopes=scopes)
    config: dict[str, Any] = {
        "team": {"id": TEAM, "name": "Sandbox Workspace"},
        "scope": "channels:read,users:read",
    }
    if authed_user:
        config["authed_user"] = {"id": authed_user}
    row = await factory.integration(
        tenant.project,
        "slack",
        TEAM,
        config,
        {"access_token": token},
        tenant.user if created_by == "tenant" else created_by,
    )
    return row, token


async def clickup_integration(
    factory: Factory, sandbox: SandboxServer, tenant: Tenant, *, token: str | None = None
) -> tuple[Integration, str]:
    token = token or clickup_api.issue_token(sandbox.state)
    row = await factory.integration(
        tenant.project,
        "clickup",
        "183",
        {"user.id": 183, "user.email": "sandbox@example.com", "refreshed_at": 1700000000},
        {"access_token": token},
        tenant.user,
    )
    return row, token


async def linear_integration(
    factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> tuple[Integration, str]:
    token = linear_api.issue_token(sandbox.state, expires=False)
    row = await factory.integration(
        tenant.project,
        "linear",
        linear_api.DEFAULT_ORGANIZATION["id"],
        {"data.viewer.organization.name": "Sandbox Inc"},
        {"access_token": token},
        tenant.user,
    )
    return row, token
