"""Routes of /api/organizations/{organization_id}/integrations."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from patchbay.kit.errors import InvalidRequest
from patchbay.kit.pagination import PageParams, page_for_request, query_parameters
from patchbay.kit.responses import JSONResponse
from patchbay.org_integration import service
from patchbay.org_integration.schemas import (
    EnvironmentMappingIn,
    OrganizationIntegrationOut,
    OrganizationIntegrationPage,
)
from patchbay.tenancy.context import OrganizationContext
from patchbay.tenancy.dependencies import organization_context

router = APIRouter(tags=["organization integrations"])

read = organization_context("organization_integration:read", read_only=True)
write = organization_context("organization_integration:write")


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"JSON parse error - {exc}", code="parse_error") from None


@router.get(
    "/integrations",
    name="organization_integrations_list",
    response_model=OrganizationIntegrationPage,
    summary="List the organization's integrations (e.g. Vercel installations).",
    openapi_extra=query_parameters(),
)
async def list_integrations(request: Request, ctx: OrganizationContext = Depends(read)) -> Response:
    """The organization's integrations (Vercel marketplace installations), paginated.
    Needs `organization_integration:read`.
    """
    params = PageParams.from_query(request.query_params)
    count, results = await service.list_integrations(ctx, params)
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.get(
    "/integrations/{integration_pk}",
    name="organization_integrations_retrieve",
    response_model=OrganizationIntegrationOut,
)
async def retrieve_integration(integration_pk: str, ctx: OrganizationContext = Depends(read)) -> Response:
    """One organization integration (its id is a UUID). Needs `organization_integration:read`."""
    return JSONResponse(await service.get_integration(ctx, integration_pk))


@router.delete("/integrations/{integration_pk}", name="organization_integrations_destroy", status_code=204)
async def delete_integration(integration_pk: str, ctx: OrganizationContext = Depends(write)) -> Response:
    """Delete an organization integration (204). Needs `organization_integration:write` and
    organization admin.
    """
    await service.delete_integration(ctx, integration_pk)
    return Response(status_code=204)


@router.patch(
    "/integrations/{integration_pk}/environment-mapping",
    name="organization_integrations_environment_mapping_partial_update",
    response_model=OrganizationIntegrationOut,
    summary="Map Vercel environments to projects and push their tokens to Vercel.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EnvironmentMappingIn.model_json_schema()}},
        }
    },
)
async def environment_mapping(
    integration_pk: str, request: Request, ctx: OrganizationContext = Depends(write)
) -> Response:
    """Map the Vercel installation's environments to projects; each mapped project's token is pushed
    to Vercel. Needs `organization_integration:write` and organization admin.
    """
    body = await _json_body(request)
    return JSONResponse(await service.update_environment_mapping(ctx, integration_pk, body))
