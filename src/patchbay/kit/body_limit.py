"""A cap on request bodies, enforced before anything reads them (authentication looks for a key in
the body; FastAPI parses it): a declared Content-Length over the cap is answered 413 at once, and a
streamed (chunked) body is counted as it arrives and cut at the cap.

A route that needs a larger (or smaller) cap gets a `BodyLimit(pattern, max_bytes)` entry: the first
pattern that matches the path wins, the default applies otherwise (docs/limits.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patchbay.kit.errors import APIError


class RequestTooLarge(APIError):
    status_code = 413
    error_type = "invalid_request"
    default_code = "request_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"Request body is larger than the limit of {max_bytes} bytes.")


class _BodyCut(Exception):
    """Raised out of `receive` once the body passed the cap (the 413 has been sent, if it could be)."""


@dataclass(frozen=True)
class BodyLimit:
    """`max_bytes` for paths matching `pattern` (a regular expression matched at the path's start)."""

    pattern: str
    max_bytes: int

    def matches(self, path: str) -> bool:
        return re.match(self.pattern, path) is not None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _chunked(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers") or ())


async def _send_413(send: Send, max_bytes: int) -> None:
    body = orjson.dumps(RequestTooLarge(max_bytes).body())
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, overrides: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = tuple(overrides)

    def limit_for(self, path: str) -> int:
        for override in self.overrides:
            if override.matches(path):
                return override.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit)  # without reading a byte of the body
            return
        if declared is not None or not _chunked(scope):
            # The server never hands the app more than a declared Content-Length (further bytes are
            # the next request), and a request with neither header has no body: only a chunked body
            # needs counting as it arrives.
            await self.app(scope, receive, send)
            return

        received = 0
        app_started = False
        cut = False

        async def counted_receive() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not app_started and not cut:
                        await _send_413(send, limit)
                    cut = True
                    raise _BodyCut()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if cut:
                return  # the 413 answered this request; the app's reply to the aborted read is dropped
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyCut:
            pass
        except Exception:
            if not cut:
                raise
