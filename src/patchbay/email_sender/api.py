"""Routes of /api/projects/{project_id}/integrations/{id}/email/…"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from patchbay.email_sender import service
from patchbay.email_sender.schemas import SenderChanges, VerificationResult
from patchbay.integration import events
from patchbay.integration.schemas import IntegrationOut
from patchbay.integration.service import get_integration
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

write = project_context("integration:write")

events.on_integration_deleted(service.remove_identity_if_unused)


@router.post(
    "/integrations/{id:row_id}/email/verify",
    name="integrations_email_verify_create",
    response_model=VerificationResult,
    summary="Check an email sender's domain at the provider and in DNS.",
)
async def verify_email_sender(id: int, ctx: ProjectContext = Depends(write)) -> Response:
    """Check the sender's domain at the email provider and in DNS; lists each DNS record with its
    status. Needs `integration:write`.
    """
    return JSONResponse(await service.verify_sender(ctx, id))


@router.patch(
    "/integrations/{id:row_id}/email",
    name="integrations_email_partial_update",
    response_model=IntegrationOut,
    summary="Rename an email sender or change its domain's MAIL FROM subdomain.",
)
async def update_email_sender(id: int, body: SenderChanges, ctx: ProjectContext = Depends(write)) -> Response:
    """Rename an email sender or change its domain's MAIL FROM subdomain. Needs `integration:write`."""
    await service.update_sender(ctx, id, body.config)
    return JSONResponse(await get_integration(ctx, id))
