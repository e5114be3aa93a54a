"""/_health, /_ready and /metrics."""

from __future__ import annotations

import hmac
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from patchbay.kit.errors import APIError, AuthenticationFailed, NotAuthenticated
from patchbay.kit.responses import JSONResponse
from patchbay.operations.metrics import render

router = APIRouter(tags=["operations"])


class Status(BaseModel):
    """A probe's answer."""

    status: Literal["ok", "ready"] = Field(description="`ok` from /_health, `ready` from /_ready.")


@router.get("/_health", name="health", response_model=Status)
async def health() -> Response:
    """Liveness: the process answers. Needs no API key."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/_ready",
    name="ready",
    response_model=Status,
    responses={503: {"description": "The database is not reachable (`database_unavailable`)."}},
)
async def ready(request: Request) -> Response:
    """Readiness: the database answers a query (503 in the error envelope when it does not). Needs
    no API key."""
    runtime = request.app.state.runtime
    try:
        async with runtime.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        raise APIError(
            "The database is not reachable.", code="database_unavailable", status_code=503
        ) from None
    return JSONResponse({"status": "ready"})


def _check_metrics_token(request: Request) -> None:
    """With PATCHBAY_METRICS_TOKEN set, /metrics answers only `Authorization: Bearer <token>`."""
    expected = request.app.state.runtime.settings.metrics_token
    if not expected:
        return
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated()
    scheme, _, given = header.partition(" ")
    # Constant-time: the comparison must not tell how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise AuthenticationFailed()


@router.get(
    "/metrics",
    name="metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics in the text exposition format: requests by method, route and status, and
    their latencies (`patchbay_requests_total`, `patchbay_request_duration_seconds`), summed over
    every worker of the server. With PATCHBAY_METRICS_TOKEN set: `Authorization: Bearer <token>`."""
    _check_metrics_token(request)
    body, content_type = render()
    return Response(body, media_type=content_type)
