"""POST {P}/integrations/{id}/check: run the kind's verification call now."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from patchbay.integration.schemas import IntegrationOut
from patchbay.integration_check import service
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

write = project_context("integration:write")


@router.post("/integrations/{id:row_id}/check", name="integrations_check_create", response_model=IntegrationOut)
async def check_integration(id: int, ctx: ProjectContext = Depends(write)) -> Response:
    """Run the integration kind's cheapest verification call now (Slack `auth.test`, Twilio's account
    fetch, an OAuth kind's token-info call ...) and answer the integration with its updated `health`.

    Needs `integration:write`. An OAuth token due for a refresh is refreshed first. A provider outage
    (timeout, 5xx, 429) is retried with back-off and answered as `refresh_failed`; refused credentials
    as `reauthorization_required`. A kind Patchbay cannot verify keeps its status (`unknown` unless a
    refresh said otherwise) and `health.detail` says that no check exists. See docs/health.md.
    """
    return JSONResponse(await service.check_integration(ctx, id))
