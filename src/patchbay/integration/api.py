"""Routes of /api/projects/{project_id}/integrations (and the /api/environments alias)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.integration import service
from patchbay.integration.schemas import CREATE_REQUEST_BODY, IntegrationOut, IntegrationPage, create_request
from patchbay.kit.lean_route import LeanRoute
from patchbay.kit.pagination import PageParams, page_for_request, query_parameter, query_parameters
from patchbay.kit.request_body import read_body
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"], route_class=LeanRoute)

read = project_context("integration:read", read_only=True)
write = project_context("integration:write")
write_after_body = project_context("integration:write", body_first=True)


@router.get(
    "/integrations",
    name="integrations_list",
    response_model=IntegrationPage,
    openapi_extra=query_parameters(
        query_parameter("kind", "Only integrations of this kind.", {"type": "string"})
    ),
)
async def list_integrations(request: Request, ctx: ProjectContext = Depends(read)) -> Response:
    """The project's integrations, oldest first (`created_at`, then `id`), `limit`/`offset` paginated.

    Needs `integration:read`. `?kind=` keeps one kind. Secrets (`sensitive_config`) are never returned.
    """
    query = request.query_params
    params = PageParams.from_query(query)
    count, results = await service.list_integrations(ctx, params, query.get("kind"))
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.post(
    "/integrations",
    name="integrations_create",
    status_code=201,
    response_model=IntegrationOut,
    openapi_extra={"requestBody": CREATE_REQUEST_BODY},
)
async def create_integration(request: Request, ctx: ProjectContext = Depends(write_after_body)) -> Response:
    """Connect a non-OAuth kind (twilio, databricks, email, gitlab ...) from its `config`, finish an
    OAuth flow from `{"code", "state"}`, or a GitHub App installation from `{"installation_id", "state"}`.

    Needs `integration:write`. An upsert on (project, kind, account): connecting the same account again
    updates the row, which needs project admin when the row exists. Each kind's `config` is described by
    its own schema (TwilioConfig, DatabricksConfig, EmailConfig, OAuthCodeConfig ...).

    The body may be JSON, form-encoded or multipart, as PostHog's API takes it: in a form, `config` is a
    JSON string, and an uploaded `key` file (a Google service-account JSON key) becomes the `config`.
    """
    body = create_request(await read_body(request))
    created = await service.create_integration(ctx, body.kind, body.config)
    return JSONResponse(created, status_code=201)


@router.get("/integrations/{id:row_id}", name="integrations_retrieve", response_model=IntegrationOut)
async def retrieve_integration(id: int, ctx: ProjectContext = Depends(read)) -> Response:
    """One integration of the project. Needs `integration:read`."""
    return JSONResponse(await service.get_integration(ctx, id))


@router.delete("/integrations/{id:row_id}", name="integrations_destroy", status_code=204)
async def delete_integration(id: int, ctx: ProjectContext = Depends(write)) -> Response:
    """Delete an integration (204). Needs `integration:write` and project admin or being the
    integration's creator; OAuth tokens are revoked at the provider where it allows.
    """
    await service.delete_integration(ctx, id)
    return Response(status_code=204)
