"""Organization pages: Vercel installations with their environment mapping (org_integration
service), and proxy records (proxy_record service). Both need an organization admin to change."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from patchbay.account.repository import AccountRepository
from patchbay.console.web import Browser, ConsoleRoute, back, posted, signed_in
from patchbay.kit.errors import ValidationError
from patchbay.kit.pagination import PageParams
from patchbay.org_integration import service as org_integrations
from patchbay.proxy_record import service as proxy_records
from patchbay.tenancy.context import OrganizationContext

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = PageParams(limit=100, offset=0)
ENVIRONMENTS = ("production", "preview", "development")


def _base(ctx: OrganizationContext) -> str:
    return f"/console/organizations/{ctx.organization_id}"


@router.get("/console/organizations/{organization_id}/vercel")
async def vercel_page(organization_id: str, browser: Browser = Depends(signed_in)) -> Response:
    ctx = await browser.organization(organization_id)
    _, installations = await org_integrations.list_integrations(ctx, PAGE_SIZE)
    projects = await AccountRepository(browser.db).projects(ctx.organization_id)
    return browser.page(
        "vercel.html",
        organization_id=ctx.organization_id,
        organization_name=ctx.organization_name,
        installations=[i for i in installations if i["kind"] == "vercel"],
        projects=projects,
        environments=ENVIRONMENTS,
        may_write=ctx.is_admin,
        area="vercel",
    )


@router.post("/console/organizations/{organization_id}/vercel/{integration_pk}/mapping")
async def save_mapping(
    organization_id: str, integration_pk: str, browser: Browser = Depends(posted)
) -> Response:
    """The same body the API's PATCH …/environment-mapping takes (blank environments: production's)."""
    ctx = await browser.organization(organization_id)
    mapping = {env: browser.value(env) for env in ENVIRONMENTS if browser.value(env)}
    await org_integrations.update_environment_mapping(ctx, integration_pk, mapping)
    return back(f"{_base(ctx)}/vercel", "saved")


async def _proxy_page(
    browser: Browser, ctx: OrganizationContext, status: int = 200, **values: object
) -> Response:
    _, records = await proxy_records.list_records(ctx, PAGE_SIZE)
    return browser.page(
        "proxy_records.html",
        status,
        organization_id=ctx.organization_id,
        organization_name=ctx.organization_name,
        records=records,
        may_write=ctx.is_admin,
        area="proxy",
        **values,
    )


@router.get("/console/organizations/{organization_id}/proxy-records")
async def proxy_records_page(organization_id: str, browser: Browser = Depends(signed_in)) -> Response:
    return await _proxy_page(browser, await browser.organization(organization_id))


@router.post("/console/organizations/{organization_id}/proxy-records")
async def create_proxy_record(organization_id: str, browser: Browser = Depends(posted)) -> Response:
    ctx = await browser.organization(organization_id)
    try:
        await proxy_records.create_record(ctx, browser.value("domain"))
    except ValidationError as refused:
        await ctx.session.rollback()
        return await _proxy_page(browser, ctx, 400, error=refused.detail, domain=browser.value("domain"))
    return back(f"{_base(ctx)}/proxy-records", "saved")


@router.post("/console/organizations/{organization_id}/proxy-records/{record_id}/delete")
async def delete_proxy_record(
    organization_id: str, record_id: str, browser: Browser = Depends(posted)
) -> Response:
    ctx = await browser.organization(organization_id)
    await proxy_records.delete_record(ctx, record_id)
    return back(f"{_base(ctx)}/proxy-records", "deleted")
