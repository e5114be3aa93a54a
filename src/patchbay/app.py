"""The ASGI application: routers, error envelope, middleware."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from patchbay import __version__
from patchbay.activity.service import run_pruner as run_activity_pruner
from patchbay.auth.cache import CHANNEL as CALLER_CACHE_CHANNEL
from patchbay.config import Settings
from patchbay.integration.repository import CALL_CACHE_CHANNEL
from patchbay.kit.body_limit import BodyLimit, BodyLimitMiddleware
from patchbay.kit.errors import APIError, MethodNotAllowed, NotFound
from patchbay.kit.live_cache import Invalidated, keep_live
from patchbay.kit.responses import JSONResponse
from patchbay.kit.validation import reject_unsafe_input, translate
from patchbay.operations.logging import configure_logging
from patchbay.operations.middleware import RequestMiddleware
from patchbay.operations.openapi import document
from patchbay.operations.options import answer_options
from patchbay.provider_proxy.target import PROXY_PATH_PATTERN
from patchbay.routing import ORGANIZATION_ROUTERS, PROJECT_ROUTERS, ROOT_ROUTERS
from patchbay.runtime import Runtime, build_runtime
from patchbay.webhook.delivery import run_delivery_loop

log = logging.getLogger("patchbay.app")


def _envelope(exc: APIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers or None)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return _envelope(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if errors and errors[0].get("type") == "missing" and tuple(errors[0].get("loc", ())) == ("body",):
        # No body at all: DRF reads it as {} and names the first required field, as we do.
        errors = _errors_of_an_empty_body(request) or errors
    return _envelope(translate(errors))


def _errors_of_an_empty_body(request: Request) -> list[dict[str, Any]]:
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None:
        return []
    _, errors = body_field.validate({}, {}, loc=("body",))
    return list(errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _envelope(NotFound())
    if exc.status_code == 405:
        if request.method == "OPTIONS":
            return await answer_options(request)  # the path exists: DRF's metadata answer
        return _envelope(MethodNotAllowed(request.method))
    return _envelope(APIError(str(exc.detail), status_code=exc.status_code, error_type="invalid_request"))


def _project_id(route: APIRoute) -> str:
    return route.name


def _environment_id(route: APIRoute) -> str:
    return f"environments_{route.name}"


def _plain_id(route: APIRoute) -> str:
    return route.name


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "PostHog's error envelope.",
    "properties": {
        "type": {
            "type": "string",
            "enum": [
                "validation_error",
                "invalid_request",
                "authentication_error",
                "throttled_error",
                "server_error",
            ],
        },
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "attr": {"type": ["string", "null"]},
    },
    "required": ["type", "code", "detail", "attr"],
}
ERROR_RESPONSES = {
    "400": "Invalid input",
    "401": "Missing or invalid API key",
    "403": "Not allowed",
    "404": "Not found",
    "429": "Rate limited",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="Patchbay",
        version=__version__,
        summary="Integrations API, wire-compatible with PostHog's.",
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["PersonalAPIKeyAuth"] = {"type": "http", "scheme": "bearer"}
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # validation errors are 400 here, in the envelope
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    schema["security"] = [{"PersonalAPIKeyAuth": []}]
    document(schema)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    configure_logging(settings.log_level)
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What start-up imported and built lives as long as the process. Frozen, the collector stops
        # walking it on every full collection: under load those walks paused a worker ~100 ms
        # every second (issue 7's p99).
        gc.collect()
        gc.freeze()
        stop = asyncio.Event()
        listener = None
        caches: dict[str, Invalidated] = {}
        if runtime.caller_cache is not None:
            caches[CALLER_CACHE_CHANNEL] = runtime.caller_cache
        if runtime.integration_cache is not None:
            caches[CALL_CACHE_CHANNEL] = runtime.integration_cache
        if caches and runtime.db.driver is not None:
            # One listening connection for every cache of this worker.
            listener = asyncio.create_task(keep_live(caches, runtime.db.driver.dsn, stop))
        refresher = None
        if settings.refresher:
            from patchbay.oauth.refresh import run_background_refresher

            refresher = asyncio.create_task(
                run_background_refresher(runtime, interval=settings.refresher_interval, stop=stop)
            )
        # Webhook deliveries: every worker claims its share of the outbox (patchbay.webhook.delivery).
        deliveries = (
            asyncio.create_task(run_delivery_loop(runtime, stop)) if settings.webhook_delivery else None
        )
        # The activity log's retention: every worker prunes hourly (a DELETE any of them may run).
        pruner = asyncio.create_task(run_activity_pruner(runtime, stop))
        try:
            yield
        finally:
            stop.set()
            await pruner
            if deliveries is not None:
                await deliveries
            if refresher is not None:
                await refresher
            if listener is not None:
                await listener
            await runtime.close()

    app = FastAPI(
        title="Patchbay",
        version=__version__,
        openapi_url="/api/schema",
        docs_url=None,  # operations/docs.py serves /api/docs with assets shipped in the package
        redoc_url=None,
        default_response_class=JSONResponse,
        lifespan=lifespan,
        # Every route: no string with a NUL or a lone surrogate gets past the door (kit/validation.py).
        dependencies=[Depends(reject_unsafe_input)],
        # Patchbay reports through its own Prometheus metrics and JSON logs (operations/); FastAPI's
        # OpenTelemetry hooks would otherwise look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Unexpected exceptions are answered by RequestMiddleware (the envelope, never a trace).

    for router in PROJECT_ROUTERS:
        app.include_router(
            router, prefix="/api/projects/{project_id}", generate_unique_id_function=_project_id
        )
    for router in PROJECT_ROUTERS:
        app.include_router(
            router,
            prefix="/api/environments/{project_id}",
            deprecated=True,
            generate_unique_id_function=_environment_id,
        )
    for router in ORGANIZATION_ROUTERS:
        app.include_router(
            router, prefix="/api/organizations/{organization_id}", generate_unique_id_function=_plain_id
        )
    for router in ROOT_ROUTERS:
        app.include_router(router, generate_unique_id_function=_plain_id)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Outermost last: RequestMiddleware logs and ids every answer, the body limit's 413 included.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides=[BodyLimit(PROXY_PATH_PATTERN, settings.proxy_max_body_bytes)],
    )
    app.add_middleware(RequestMiddleware)
    return app
