"""/_health, /_ready and /metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from patchbay.kit.errors import APIError, AuthenticationFailed, NotAuthenticated
from patchbay.kit.responses import JSONResponse
from patchbay.operations.metrics import render

router = APIRouter(tags=["operations"], include_in_schema=False)


@router.get("/_health", name="health")
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/_ready", name="ready")
async def ready(request: Request) -> Response:
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


@router.get("/metrics", name="metrics")
async def metrics(request: Request) -> Response:
    _check_metrics_token(request)
    body, content_type = render()
    return Response(body, media_type=content_type)
