"""Routes of /api/organizations/{organization_id}/proxy_records."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.kit.pagination import PageParams, page_for_request, query_parameters
from patchbay.kit.responses import JSONResponse
from patchbay.proxy_record import service
from patchbay.proxy_record.schemas import ProxyRecordCreate, ProxyRecordOut, ProxyRecordPage
from patchbay.tenancy.context import OrganizationContext
from patchbay.tenancy.dependencies import organization_context

router = APIRouter(tags=["proxy records"])

read = organization_context("proxy_record:read")
write = organization_context("proxy_record:write")


@router.get(
    "/proxy_records",
    name="proxy_records_list",
    response_model=ProxyRecordPage,
    openapi_extra=query_parameters(),
)
async def list_proxy_records(request: Request, ctx: OrganizationContext = Depends(read)) -> Response:
    """The organization's managed reverse-proxy domains, paginated. Needs `proxy_record:read`."""
    params = PageParams.from_query(request.query_params)
    count, results = await service.list_records(ctx, params)
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.post(
    "/proxy_records",
    name="proxy_records_create",
    status_code=201,
    response_model=ProxyRecordOut,
    summary="Add a reverse-proxy domain (organization admins); point it at `target_cname`.",
)
async def create_proxy_record(body: ProxyRecordCreate, ctx: OrganizationContext = Depends(write)) -> Response:
    """Add a reverse-proxy domain (organization admins); point its CNAME at the answer's
    `target_cname`. Needs `proxy_record:write`.
    """
    return JSONResponse(await service.create_record(ctx, body.domain), status_code=201)


@router.get("/proxy_records/{id}", name="proxy_records_retrieve", response_model=ProxyRecordOut)
async def retrieve_proxy_record(id: str, ctx: OrganizationContext = Depends(read)) -> Response:
    """One proxy record. Needs `proxy_record:read`."""
    return JSONResponse(await service.get_record(ctx, id))


@router.delete("/proxy_records/{id}", name="proxy_records_destroy", status_code=204)
async def delete_proxy_record(id: str, ctx: OrganizationContext = Depends(write)) -> Response:
    """Delete a proxy record (204). Needs `proxy_record:write` and organization admin."""
    await service.delete_record(ctx, id)
    return Response(status_code=204)
