"""The integrations page: the project's connections with their health and last activity, connecting
one through a connect session, checking one now, deleting one, its activity log, and a preview of a
Slack workspace's channels. Every read and change goes through the integration, integration_check,
activity, connect and provider_resources services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from patchbay.activity import service as activity
from patchbay.connect import service as connect_sessions
from patchbay.connect.kinds import card, configured_kinds
from patchbay.connect.schemas import ConnectSessionCreate
from patchbay.console.web import Browser, ConsoleRoute, back, posted, signed_in
from patchbay.integration import health
from patchbay.integration import service as integrations
from patchbay.integration_check import service as checks
from patchbay.kit.convertors import parse_row_id
from patchbay.kit.errors import APIError, NotFound
from patchbay.kit.pagination import MAX_LIMIT, PageParams, page_response
from patchbay.provider_resources.service import open_resources
from patchbay.providers import registry
from patchbay.tenancy.context import ProjectContext

router = APIRouter(route_class=ConsoleRoute)

HEALTH_LABELS = {
    health.HEALTHY: "Healthy",
    health.REFRESH_FAILED: "Refresh failed",
    health.REAUTHORIZATION_REQUIRED: "Reconnect needed",
    "unknown": "Unknown",
}
ACTIVITY_PAGE_SIZE = 50


def health_status(item: dict[str, Any]) -> str:
    """The API's `health.status` (integration.health), as every integration object carries it."""
    found = item.get("health")
    if isinstance(found, dict) and isinstance(found.get("status"), str):
        return str(found["status"])
    return health.UNKNOWN


def may_delete(ctx: ProjectContext, item: dict[str, Any]) -> bool:
    """integration.service.delete_integration's rule: a project admin, or the integration's creator."""
    creator = item.get("created_by")
    return ctx.is_project_admin or (isinstance(creator, dict) and creator.get("id") == ctx.user.id)


def _row_id(raw: str) -> int:
    pk = parse_row_id(raw)
    if pk is None:
        raise NotFound()
    return pk


def _page_url(ctx: ProjectContext) -> str:
    return f"/console/projects/{ctx.project.id}/integrations"


@router.get("/console/projects/{project_id}/integrations")
async def integrations_page(project_id: str, browser: Browser = Depends(signed_in)) -> Response:
    ctx = await browser.project(project_id)
    _, items = await integrations.list_integrations(ctx, PageParams(limit=MAX_LIMIT, offset=0), None)
    last_used = await activity.last_activity(ctx, [int(item["id"]) for item in items])
    for item in items:
        status = health_status(item)
        item.update(
            health_status=status,
            health_label=HEALTH_LABELS.get(status, status.replace("_", " ").capitalize()),
            kind_name=card(item["kind"]).name,
            can_delete=may_delete(ctx, item),
            last_activity=last_used.get(int(item["id"])),
        )
    kinds = [card(kind) for kind in configured_kinds(ctx.runtime.settings)]
    return browser.page(
        "integrations.html", project=ctx.project, integrations=items, kinds=kinds, area="integrations"
    )


@router.post("/console/projects/{project_id}/integrations/connect")
async def connect_integration(project_id: str, browser: Browser = Depends(posted)) -> Response:
    """A connect session for one kind (as `POST …/connect_sessions/` makes it), then its page."""
    ctx = await browser.project(project_id)
    body = ConnectSessionCreate.model_validate(
        {"kinds": [browser.value("kind")], "next": _page_url(ctx) + "?notice=connected"}
    )
    created = await connect_sessions.create_session(ctx, body)
    return RedirectResponse(str(created["url"]), status_code=303)


@router.post("/console/projects/{project_id}/integrations/{integration_id}/delete")
async def delete_integration(
    project_id: str, integration_id: str, browser: Browser = Depends(posted)
) -> Response:
    ctx = await browser.project(project_id)
    await integrations.delete_integration(ctx, _row_id(integration_id))
    return back(_page_url(ctx), "deleted")


@router.post("/console/projects/{project_id}/integrations/{integration_id}/check")
async def check_integration(
    project_id: str, integration_id: str, browser: Browser = Depends(posted)
) -> Response:
    """`POST …/integrations/{id}/check/`'s service: the kind's verification call now, then the list
    with the new health status (the API's rule: any member of the project may check)."""
    ctx = await browser.project(project_id)
    checked = await checks.check_integration(ctx, _row_id(integration_id))
    return back(_page_url(ctx), "checked-" + health_status(checked))


@router.get("/console/projects/{project_id}/integrations/{integration_id}/activity")
async def activity_page(
    project_id: str, integration_id: str, request: Request, browser: Browser = Depends(signed_in)
) -> Response:
    """The integration's activity log, newest first, as `GET …/integrations/{id}/activity/` reads it."""
    ctx = await browser.project(project_id)
    pk = _row_id(integration_id)
    shown = await integrations.get_integration(ctx, pk)
    params = PageParams.from_query(request.query_params, default_limit=ACTIVITY_PAGE_SIZE)
    params = PageParams(limit=min(params.limit, ACTIVITY_PAGE_SIZE), offset=params.offset)
    count, rows = await activity.list_activity(ctx, pk, params)
    links = page_response(
        base_url="",
        path=request.url.path,
        query_string=request.url.query,
        params=params,
        count=count,
        results=rows,
    )
    return browser.page(
        "activity.html",
        project=ctx.project,
        integration=shown,
        kind_name=card(shown["kind"]).name,
        rows=rows,
        count=count,
        first=params.offset + 1,
        next_url=links["next"],
        previous_url=links["previous"],
        area="integrations",
    )


@router.get("/console/projects/{project_id}/integrations/{integration_id}/channels")
async def slack_channels(
    project_id: str, integration_id: str, browser: Browser = Depends(signed_in)
) -> Response:
    """Slack's channel list through its resource route's handler (cache, refresh and failure rules)."""
    ctx = await browser.project(project_id)
    pk = _row_id(integration_id)
    shown = await integrations.get_integration(ctx, pk)
    resources = await open_resources(ctx, pk)
    lister = registry.resource_lister(resources.kind)
    route = next((r for r in lister.routes if r.path == "channels"), None) if lister else None
    if route is None:
        raise APIError("Only Slack integrations list channels.", status_code=400)
    error, channels = "", []
    try:
        answer = await route.handler(
            resources, search="", limit=200, offset=0, channel_id="", force_refresh=False
        )
        channels = list(answer.get("channels", [])) if isinstance(answer, dict) else []
    except APIError as failed:
        error = failed.detail
    return browser.page(
        "channels.html",
        project=ctx.project,
        channels=channels,
        error=error,
        display_name=shown["display_name"],
        area="integrations",
    )
