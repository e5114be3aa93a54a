"""Integrations wired to the sandbox simulators, created straight through the factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from patchbay.auth.service import AuthSubject, AuthUser
from patchbay.models import Integration, MembershipLevel
from patchbay.provider_resources.service import open_resources
from patchbay.providers.clickup import simulator_api as clickup_api
from patchbay.providers.linear import simulator_api as linear_api
from patchbay.providers.slack import resources as slack_resources
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.tenancy.context import ProjectContext, ProjectRef
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


@asynccontextmanager
async def browser_context(runtime: Runtime, tenant: Tenant) -> AsyncIterator[ProjectContext]:
    """The tenant's owner as a signed-in browser on their project. Patchbay authenticates API keys
    only, so the service rules that treat a browser differently are exercised through this context."""
    subject = AuthSubject(
        user=AuthUser.of(tenant.user),
        key_id="", scopes=["*"], scoped_projects=None, scoped_organizations=None, browser_session=True,
    )  # fmt: skip
    project = ProjectRef(
        id=tenant.project.id,
        organization_id=tenant.project.organization_id,
        name=tenant.project.name,
        api_token=tenant.project.api_token,
    )
    async with runtime.db.session() as session:
        yield ProjectContext(
            runtime=runtime, session=session, subject=subject, project=project, level=MembershipLevel.ADMIN
        )


async def slack_channels(ctx: ProjectContext, pk: int, **params: Any) -> dict[str, Any]:
    """Slack's channels list as the route runs it, for a context the API cannot build (a browser)."""
    return await slack_resources.channels(await open_resources(ctx, pk), **params)


async def slack_users(ctx: ProjectContext, pk: int, **params: Any) -> dict[str, Any]:
    return await slack_resources.users(await open_resources(ctx, pk), **params)
