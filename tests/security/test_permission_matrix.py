"""Every route of the app against the callers of its rule (tests/security/route_matrix.py), and
proof that the matrix notices a route without an entry and a route whose permission code is wrong."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Response

from patchbay.email_sender import service as email_senders
from patchbay.integration import service as integrations
from patchbay.integration.repository import IntegrationRepository
from patchbay.kit.errors import NotFound
from patchbay.kit.responses import JSONResponse
from patchbay.proxy_record import service as proxy_records
from patchbay.sandbox.server import SandboxServer
from patchbay.tenancy.context import OrganizationContext, ProjectContext, UserContext
from patchbay.tenancy.dependencies import organization_context, project_context, user_context
from tests.security import conftest
from tests.security.matrix_world import World
from tests.security.route_matrix import (
    PROJECT_ADMIN,
    PROXY_ADMIN,
    READ,
    TABLE,
    Entry,
    check,
    check_entry,
    coverage_problems,
    served_routes,
)
from tests.support.factory import Factory


def test_every_route_has_exactly_one_entry(app: FastAPI) -> None:
    assert coverage_problems(app, TABLE) == []


async def test_permission_matrix(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, sandbox: SandboxServer, backend: str
) -> None:
    world = await World.build(client, factory, sandbox)
    checked, problems = await check(world, TABLE)
    conftest.ROUTES_CHECKED[backend] = checked
    assert not problems, "\n".join(map(str, problems))
    assert checked == len(served_routes(app)) >= 50


def test_a_route_added_without_an_entry_fails_coverage(app: FastAPI) -> None:
    added = APIRouter()

    @added.get("/integrations/{id:row_id}/fresh_feature", name="integrations_fresh_feature")
    async def fresh_feature(id: int, ctx: ProjectContext = Depends(READ_DEPENDENCY)) -> Response:
        return JSONResponse({})

    app.include_router(added, prefix="/api/projects/{project_id}")
    assert coverage_problems(app, TABLE) == [
        "no matrix entry for GET /api/projects/{project_id}/integrations/{id}/fresh_feature"
    ]
    # Declared for one mount only: the other mount of {P} is reported as not served.
    partial = [*TABLE, Entry("GET", "{P}/integrations/{id}/fresh_feature", READ, 200, "twilio")]
    assert coverage_problems(app, partial) == [
        "matrix entry for GET /api/environments/{project_id}/integrations/{id}/fresh_feature, "
        "which the app does not serve"
    ]


def test_an_entry_for_a_removed_route_fails_coverage(app: FastAPI) -> None:
    stale = Entry("GET", "/api/organizations/{organization_id}/retired", PROXY_ADMIN, 200)
    assert coverage_problems(app, [*TABLE, stale]) == [
        "matrix entry for GET /api/organizations/{organization_id}/retired, which the app does not serve"
    ]
    assert coverage_problems(app, [*TABLE, TABLE[0]]) == [
        "2 matrix entries for GET /api/environments/{project_id}/integrations",
        "2 matrix entries for GET /api/projects/{project_id}/integrations",
    ]


# --- seeded mutations: real routes whose permission code is deliberately wrong ---------------------

READ_DEPENDENCY = project_context("integration:read")
seeded = APIRouter()
seeded_org = APIRouter()


@seeded.patch("/seeded/{id:row_id}/email", name="seeded_email_read_scope")
async def email_patch_with_read_scope(
    id: int, body: dict[str, Any], ctx: ProjectContext = Depends(READ_DEPENDENCY)
) -> Response:
    """Email PATCH whose dependency asks for `integration:read` instead of `integration:write`."""
    await email_senders.update_sender(ctx, id, body.get("config") or {})
    return JSONResponse(await integrations.get_integration(ctx, id))


@seeded.delete("/seeded/{id:row_id}", name="seeded_delete_without_admin", status_code=204)
async def delete_without_admin(
    id: int, ctx: ProjectContext = Depends(project_context("integration:write"))
) -> Response:
    """Deletes without the admin-or-creator rule of integration.service."""
    repository = IntegrationRepository(ctx.session, ctx.project.id, ctx.user.id)
    if await repository.get(id) is None:
        raise NotFound()
    await repository.delete(id)
    await ctx.session.commit()
    return Response(status_code=204)


@seeded.get("/seeded/{id:row_id}/no_tenant", name="seeded_without_tenant_check")
async def read_without_tenant_check(
    project_id: str, id: int, ctx: UserContext = Depends(user_context("integration:read"))
) -> Response:
    """Trusts the project id of the path: no membership check."""
    row = await IntegrationRepository(ctx.session, int(project_id), ctx.user.id).get(id)
    if row is None:
        raise NotFound()
    return JSONResponse(integrations.serialize(row))


@seeded_org.delete("/seeded_proxy_records/{id}", name="seeded_proxy_delete_read_scope", status_code=204)
async def proxy_delete_with_read_scope(
    id: str, ctx: OrganizationContext = Depends(organization_context("proxy_record:read"))
) -> Response:
    """Proxy-record DELETE whose dependency asks for `proxy_record:read`."""
    await proxy_records.delete_record(ctx, id)
    return Response(status_code=204)


SEEDED = [
    Entry("PATCH", "/api/projects/{project_id}/seeded/{id}/email", PROJECT_ADMIN, 200, "email"),
    Entry("DELETE", "/api/projects/{project_id}/seeded/{id}", PROJECT_ADMIN, 204, "twilio"),
    Entry("GET", "/api/projects/{project_id}/seeded/{id}/no_tenant", READ, 200, "twilio"),
    Entry(
        "DELETE",
        "/api/organizations/{organization_id}/seeded_proxy_records/{id}",
        PROXY_ADMIN,
        204,
        "proxy_record",
    ),
]


async def test_the_matrix_reports_seeded_permission_bugs(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, sandbox: SandboxServer
) -> None:
    app.include_router(seeded, prefix="/api/projects/{project_id}")
    app.include_router(seeded_org, prefix="/api/organizations/{organization_id}")
    assert {f"no matrix entry for {e.method} {e.path}" for e in SEEDED} <= set(coverage_problems(app, TABLE))
    assert coverage_problems(app, [*TABLE, *SEEDED]) == []
    world = await World.build(client, factory, sandbox)

    reported = {}
    for entry in SEEDED:
        problems = await check_entry(world, entry, entry.path)
        reported[entry.path] = [problem.caller for problem in problems]

    # Each wrong route is named with the caller it let through; where that caller's request deleted
    # the target, the owner's later request finds nothing (404) and is reported too.
    assert reported == {
        "/api/projects/{project_id}/seeded/{id}/email": ["key without integration:write"],
        "/api/projects/{project_id}/seeded/{id}": ["member", "owner"],
        "/api/projects/{project_id}/seeded/{id}/no_tenant": [
            "another organization's user",
            "key scoped to another project",
            "key scoped to another organization",
        ],
        "/api/organizations/{organization_id}/seeded_proxy_records/{id}": [
            "key without proxy_record:write",
            "owner",
        ],
    }
