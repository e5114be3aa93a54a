"""Email senders: the project's `email` integrations, their DNS records (the provider's answer to
"is this domain verified?") and the Domain Connect button, through the email_sender and
domain_connect services (both need a project admin to act)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response

from patchbay.console.web import Browser, ConsoleRoute, posted, signed_in
from patchbay.domain_connect import service as domain_connect
from patchbay.domain_connect.schemas import ApplyUrlRequest
from patchbay.email_sender import service as email_senders
from patchbay.integration import service as integrations
from patchbay.kit.convertors import parse_row_id
from patchbay.kit.errors import NotFound
from patchbay.kit.pagination import MAX_LIMIT, PageParams
from patchbay.tenancy.context import ProjectContext

router = APIRouter(route_class=ConsoleRoute)


def _sender_id(raw: str) -> int:
    pk = parse_row_id(raw)
    if pk is None:
        raise NotFound()
    return pk


async def _page(browser: Browser, ctx: ProjectContext, status: int = 200, **values: object) -> Response:
    _, senders = await integrations.list_integrations(ctx, PageParams(limit=MAX_LIMIT, offset=0), "email")
    return browser.page(
        "email.html",
        status,
        project=ctx.project,
        senders=senders,
        may_write=ctx.is_project_admin,
        area="email",
        **values,
    )


@router.get("/console/projects/{project_id}/email-senders")
async def email_senders_page(project_id: str, browser: Browser = Depends(signed_in)) -> Response:
    return await _page(browser, await browser.project(project_id))


@router.post("/console/projects/{project_id}/email-senders/{sender_id}/verify")
async def verify_sender(project_id: str, sender_id: str, browser: Browser = Depends(posted)) -> Response:
    """The provider's verification and the DNS records it wants, shown under the sender."""
    ctx = await browser.project(project_id)
    pk = _sender_id(sender_id)
    result = await email_senders.verify_sender(ctx, pk)
    return await _page(browser, ctx, checked={"id": pk, **result})


@router.post("/console/projects/{project_id}/email-senders/{sender_id}/domain-connect")
async def domain_connect_sender(
    project_id: str, sender_id: str, browser: Browser = Depends(posted)
) -> Response:
    """Off to the DNS provider with a signed Domain Connect apply URL for the sender's records."""
    ctx = await browser.project(project_id)
    body = ApplyUrlRequest.model_validate({"context": "email", "integration_id": _sender_id(sender_id)})
    made = await domain_connect.apply_url(ctx, body)
    return RedirectResponse(made["url"], status_code=303)
