"""GET /api/projects/{project_id}/integrations/{id}/activity (CONTRACT §6.1)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.activity import service
from patchbay.activity.schemas import ActivityPage
from patchbay.kit.pagination import PageParams, page_for_request, query_parameters
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

read = project_context("integration:read")


@router.get(
    "/integrations/{id:row_id}/activity",
    name="integrations_activity_list",
    response_model=ActivityPage,
    openapi_extra=query_parameters(),
    summary="The integration's activity log, newest first.",
)
async def list_integration_activity(
    id: int, request: Request, ctx: ProjectContext = Depends(read)
) -> Response:
    """Proxy calls, credential reads, refreshes and checks of this integration with their outcome,
    newest first, paginated; kept `PATCHBAY_ACTIVITY_RETENTION_DAYS`. Needs `integration:read`."""
    params = PageParams.from_query(request.query_params)
    count, results = await service.list_activity(ctx, id, params)
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))
