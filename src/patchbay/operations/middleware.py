"""One ASGI middleware for what every request needs: an optional trailing slash, a request id,
an access log line and metrics."""

from __future__ import annotations

import logging
import random
import re
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patchbay.kit.db import database_unavailable
from patchbay.kit.errors import APIError, DatabaseUnavailable
from patchbay.kit.request_scope import ORIGINAL_RAW_PATH, open_cleanups, run_cleanups
from patchbay.operations.logging import request_id_var
from patchbay.operations.metrics import record_request

log = logging.getLogger("patchbay.access")

ORIGINAL_PATH = "patchbay.original_path"

SERVER_ERROR = orjson.dumps(APIError().body())
DATABASE_UNAVAILABLE = DatabaseUnavailable()

# A connect page's token is its capability: log lines name the page, never the token.
_TOKEN_IN_PATH = re.compile(r"(/connect/pcs_)[^/]+")


def loggable_path(path: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", path) if "/connect/pcs_" in path else path


def _incoming_request_id(scope: Scope) -> str:
    found = b""
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            found = value  # the last one, as a dict of the headers would keep
    return found.decode("latin-1")


def _new_request_id() -> str:
    # A label for log lines, not a secret: the PRNG, without a getrandom() system call per request.
    return f"{random.getrandbits(64):016x}"


async def send_envelope(send: Send, request_id: str, error: APIError | None = None) -> None:
    """PostHog's 500 body (or `error`'s); never the exception's message, which might carry anything."""
    body = SERVER_ERROR if error is None else orjson.dumps(error.body())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    if error is not None:
        headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": 500 if error is None else error.status_code,
            "headers": headers,
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            # Every route answers with or without its trailing slash, as PostHog's router does;
            # links (pagination) keep the path the client used.
            scope = dict(scope)
            scope[ORIGINAL_RAW_PATH] = scope.get("raw_path")
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
            scope[ORIGINAL_PATH] = path
        incoming = _incoming_request_id(scope)
        request_id = (
            incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else _new_request_id()
        )
        token = request_id_var.set(request_id)
        cleanups = open_cleanups(scope)
        started = time.perf_counter()
        status = 500

        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer the envelope
            error: APIError | None = None
            if database_unavailable(exc):
                # PostgreSQL is away (restart, failover): a retryable 503, not a bug to trace.
                error = DATABASE_UNAVAILABLE
                log.warning(
                    "database unavailable",
                    extra={"path": loggable_path(scope["path"]), "error": type(exc).__name__},
                )
            else:
                log.error("unhandled error", exc_info=exc, extra={"path": loggable_path(scope["path"])})
            if not response_started:
                status = 500 if error is None else error.status_code
                await send_envelope(send, request_id, error)
        finally:
            await run_cleanups(cleanups)
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            # The route's name is its operation id: stable, and shared by the /api/environments alias.
            route_path = getattr(route, "name", None) or "unmatched"
            method = scope["method"]
            record_request(method, route_path, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": loggable_path(scope["path"]),
                        "route": route_path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)
