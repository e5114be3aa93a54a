"""Routes of /api/projects/{project_id}/integrations (and the /api/environments alias)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.integration import service
from patchbay.integration.schemas import IntegrationCreate, IntegrationOut, IntegrationPage
from patchbay.kit.pagination import PageParams, page_for_request, query_parameter, query_parameters
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

read = project_context("integration:read", read_only=True)
write = project_context("integration:write")


@router.get(
    "/integrations",
    name="integrations_list",
    response_model=IntegrationPage,
    openapi_extra=query_parameters(
        query_parameter("kind", "Only integrations of this kind.", {"type": "string"})
    ),
)
async def list_integrations(request: Request, ctx: ProjectContext = Depends(read)) -> Response:
    query = request.query_params
    params = PageParams.from_query(query)
    count, results = await service.list_integrations(ctx, params, query.get("kind"))
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.post("/integrations", name="integrations_create", status_code=201, response_model=IntegrationOut)
async def create_integration(body: IntegrationCreate, ctx: ProjectContext = Depends(write)) -> Response:
    created = await service.create_integration(ctx, body.kind, body.config)
    return JSONResponse(created, status_code=201)


@router.get("/integrations/{id:row_id}", name="integrations_retrieve", response_model=IntegrationOut)
async def retrieve_integration(id: int, ctx: ProjectContext = Depends(read)) -> Response:
    return JSONResponse(await service.get_integration(ctx, id))


@router.delete("/integrations/{id:row_id}", name="integrations_destroy", status_code=204)
async def delete_integration(id: int, ctx: ProjectContext = Depends(write)) -> Response:
    await service.delete_integration(ctx, id)
    return Response(status_code=204)
