"""The webhooks page: the project's endpoints (create: the secret shown once; delete), and each
endpoint's deliveries with status and response code (send a ping, redeliver). Through the webhook
service, whose writes need a project admin: members see the lists, not the forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError as ModelInvalid
from starlette.responses import Response

from patchbay.console.web import Browser, ConsoleRoute, back, posted, signed_in
from patchbay.kit.errors import ValidationError
from patchbay.kit.pagination import PageParams
from patchbay.tenancy.context import ProjectContext
from patchbay.webhook import outbox as _outbox  # noqa: F401 - registers the outbox hook
from patchbay.webhook import service as webhooks
from patchbay.webhook.outbox import EVENT_TYPES
from patchbay.webhook.schemas import WebhookCreate

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = PageParams(limit=100, offset=0)


def _base(ctx: ProjectContext) -> str:
    return f"/console/projects/{ctx.project.id}/webhooks"


async def _list_page(browser: Browser, ctx: ProjectContext, status: int = 200, **values: Any) -> Response:
    _, endpoints = await webhooks.list_endpoints(ctx, PAGE_SIZE)
    return browser.page(
        "webhooks.html",
        status,
        project=ctx.project,
        endpoints=endpoints,
        event_types=EVENT_TYPES,
        may_write=ctx.is_project_admin,
        area="webhooks",
        **values,
    )


@router.get("/console/projects/{project_id}/webhooks")
async def webhooks_page(project_id: str, browser: Browser = Depends(signed_in)) -> Response:
    return await _list_page(browser, await browser.project(project_id))


@router.post("/console/projects/{project_id}/webhooks")
async def create_webhook(project_id: str, browser: Browser = Depends(posted)) -> Response:
    """Create an endpoint; this answer is the only place its `whsec_` secret is shown."""
    ctx = await browser.project(project_id)
    chosen = [event for event in browser.values("events") if event]
    try:
        body = WebhookCreate(
            url=browser.value("url").strip(),
            events=chosen or ["*"],
            description=browser.value("description").strip(),
            enabled=True,
        )
    except ModelInvalid:
        raise ValidationError("The description is too long (at most 1000 characters).") from None
    try:
        created = await webhooks.create_endpoint(ctx, body)
    except ValidationError as refused:
        await ctx.session.rollback()
        if refused.status_code == 400:
            return await _list_page(browser, ctx, 400, error=refused.detail, url=body.url)
        raise
    return await _list_page(browser, ctx, 201, created=created)


@router.get("/console/projects/{project_id}/webhooks/{webhook_id}")
async def webhook_page(project_id: str, webhook_id: str, browser: Browser = Depends(signed_in)) -> Response:
    ctx = await browser.project(project_id)
    endpoint = await webhooks.get_endpoint(ctx, webhook_id)
    _, deliveries = await webhooks.list_deliveries(ctx, webhook_id, PAGE_SIZE)
    return browser.page(
        "webhook.html",
        project=ctx.project,
        endpoint=endpoint,
        deliveries=deliveries,
        may_write=ctx.is_project_admin,
        area="webhooks",
    )


@router.post("/console/projects/{project_id}/webhooks/{webhook_id}/ping")
async def ping_webhook(project_id: str, webhook_id: str, browser: Browser = Depends(posted)) -> Response:
    ctx = await browser.project(project_id)
    await webhooks.send_test(ctx, webhook_id)
    return back(f"{_base(ctx)}/{webhook_id}", "ping")


@router.post("/console/projects/{project_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    project_id: str, webhook_id: str, delivery_id: str, browser: Browser = Depends(posted)
) -> Response:
    ctx = await browser.project(project_id)
    await webhooks.redeliver(ctx, webhook_id, delivery_id)
    return back(f"{_base(ctx)}/{webhook_id}", "redelivered")


@router.post("/console/projects/{project_id}/webhooks/{webhook_id}/delete")
async def delete_webhook(project_id: str, webhook_id: str, browser: Browser = Depends(posted)) -> Response:
    ctx = await browser.project(project_id)
    await webhooks.delete_endpoint(ctx, webhook_id)
    return back(_base(ctx), "deleted")
