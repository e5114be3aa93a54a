"""Routes of /api/projects/{project_id}/webhooks (CONTRACT §6.4). Reading needs `webhook:read`;
writing needs `webhook:write` and a project admin (checked in the service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.kit.pagination import PageParams, page_for_request, query_parameters
from patchbay.kit.responses import JSONResponse
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context
from patchbay.webhook import outbox as _outbox  # noqa: F401 - registers the outbox hook
from patchbay.webhook import service
from patchbay.webhook.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(tags=["webhooks"])

read = project_context("webhook:read")
write = project_context("webhook:write")


@router.get("/webhooks", name="webhooks_list", response_model=WebhookPage, openapi_extra=query_parameters())
async def list_webhooks(request: Request, ctx: ProjectContext = Depends(read)) -> Response:
    """The project's webhook endpoints, oldest first, paginated. Needs `webhook:read`."""
    params = PageParams.from_query(request.query_params)
    count, results = await service.list_endpoints(ctx, params)
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.post(
    "/webhooks",
    name="webhooks_create",
    status_code=201,
    response_model=WebhookWithSecret,
    summary="Add an endpoint; the answer shows its signing secret, once.",
)
async def create_webhook(body: WebhookCreate, ctx: ProjectContext = Depends(write)) -> Response:
    """Create an endpoint. Answers its `whsec_` secret, the only time it is shown. Needs `webhook:write` and a project admin; the URL must be https on a public address."""
    return JSONResponse(await service.create_endpoint(ctx, body), status_code=201)


@router.get("/webhooks/{id}", name="webhooks_retrieve", response_model=WebhookOut)
async def retrieve_webhook(id: str, ctx: ProjectContext = Depends(read)) -> Response:
    """One endpoint (never its secret). Needs `webhook:read`."""
    return JSONResponse(await service.get_endpoint(ctx, id))


@router.patch("/webhooks/{id}", name="webhooks_partial_update", response_model=WebhookOut)
async def update_webhook(id: str, body: WebhookUpdate, ctx: ProjectContext = Depends(write)) -> Response:
    """Change `url`, `events`, `description` or `enabled`; only the fields sent change. Needs `webhook:write` and a project admin."""
    return JSONResponse(await service.update_endpoint(ctx, id, body))


@router.delete("/webhooks/{id}", name="webhooks_destroy", status_code=204)
async def delete_webhook(id: str, ctx: ProjectContext = Depends(write)) -> Response:
    """Delete an endpoint and its pending deliveries. Needs `webhook:write` and a project admin."""
    await service.delete_endpoint(ctx, id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{id}/rotate-secret",
    name="webhooks_rotate_secret_create",
    response_model=WebhookWithSecret,
    summary="A new secret, shown once; the old one keeps signing beside it for 24 hours.",
)
async def rotate_webhook_secret(id: str, ctx: ProjectContext = Depends(write)) -> Response:
    """A new secret, shown once; the old one keeps signing beside it for 24 hours. Needs `webhook:write` and a project admin."""
    return JSONResponse(await service.rotate_secret(ctx, id))


@router.post(
    "/webhooks/{id}/test",
    name="webhooks_test_create",
    status_code=202,
    response_model=DeliveryOut,
    summary="Queue a `ping` event to this endpoint.",
)
async def test_webhook(id: str, ctx: ProjectContext = Depends(write)) -> Response:
    """Queue a `ping` event to this endpoint (202). Needs `webhook:write` and a project admin."""
    return JSONResponse(await service.send_test(ctx, id), status_code=202)


@router.get(
    "/webhooks/{id}/deliveries",
    name="webhooks_deliveries_list",
    response_model=DeliveryPage,
    openapi_extra=query_parameters(),
    summary="Deliveries to this endpoint, newest first.",
)
async def list_webhook_deliveries(id: str, request: Request, ctx: ProjectContext = Depends(read)) -> Response:
    """Deliveries to this endpoint, newest first, paginated: status, attempts, last answer. Needs `webhook:read`."""
    params = PageParams.from_query(request.query_params)
    count, results = await service.list_deliveries(ctx, id, params)
    return JSONResponse(page_for_request(request, ctx.runtime.settings.site_origin, params, count, results))


@router.post(
    "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    name="webhooks_deliveries_redeliver_create",
    status_code=202,
    response_model=DeliveryOut,
    summary="Deliver the event again (same webhook-id), now.",
)
async def redeliver_webhook(id: str, delivery_id: str, ctx: ProjectContext = Depends(write)) -> Response:
    """Deliver an event again, as a new delivery with the same `webhook-id` (202). Needs `webhook:write` and a project admin."""
    return JSONResponse(await service.redeliver(ctx, id, delivery_id), status_code=202)
