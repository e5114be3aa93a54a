"""Routes of /api/projects/{project_id}/integrations/domain-connect/…"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from patchbay.domain_connect import service
from patchbay.domain_connect.schemas import ApplyUrl, ApplyUrlRequest, DomainConnectCheck
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

read = project_context("integration:read")
write = project_context("integration:write")


@router.get(
    "/integrations/domain-connect/check",
    name="integrations_domain_connect_check_retrieve",
    response_model=DomainConnectCheck,
    summary="Whether the domain's DNS provider supports Domain Connect.",
)
async def domain_connect_check(
    ctx: ProjectContext = Depends(read),
    domain: str | None = Query(None, description="The domain (or subdomain) to set up."),
) -> Response:
    """Whether the DNS provider of `domain` supports Domain Connect, and which provider it is.
    Needs `integration:read`. Answers are cached for an hour.
    """
    return JSONResponse(await service.check(ctx, domain))


@router.post(
    "/integrations/domain-connect/apply-url",
    name="integrations_domain_connect_apply_url_create",
    response_model=ApplyUrl,
    summary="A signed Domain Connect URL that applies an email sender's or proxy record's DNS records.",
)
async def domain_connect_apply_url(body: ApplyUrlRequest, ctx: ProjectContext = Depends(write)) -> Response:
    """A signed Domain Connect URL that sets up the DNS records of an email sender (`context`
    `email`) or a managed reverse proxy (`context` `proxy`) in one click. Needs `integration:write`.
    """
    return JSONResponse(await service.apply_url(ctx, body))
