"""A provider API on loopback for the proxy's streaming tests: it answers what it received (method,
path, query, headers, body size and digest) and streams large bodies out in chunks. Run it from a
thread (ThreadedServer) and point a kind's PATCHBAY_<KIND>_API_URL at it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CHUNK = 64 * 1024


class EchoProvider:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/big", self.big, methods=["GET"]),
                Route("/{rest:path}", self.echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            ]
        )

    async def echo(self, request: Request) -> Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        seen = {
            "method": request.method,
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query": request.scope["query_string"].decode("latin-1"),
            "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]},
            "size": size,
            "sha256": digest.hexdigest(),
        }
        with self.lock:
            self.received.append(seen)
        status = int(request.query_params.get("status", "200"))
        return JSONResponse(
            seen, status_code=status, headers={"Set-Cookie": "provider=1", "X-Provider": "echo"}
        )

    async def big(self, request: Request) -> Response:
        size = int(request.query_params["n"])

        async def chunks() -> AsyncIterator[bytes]:
            left = size
            while left > 0:
                part = min(CHUNK, left)
                yield b"x" * part
                left -= part

        return StreamingResponse(chunks(), media_type="application/octet-stream")
