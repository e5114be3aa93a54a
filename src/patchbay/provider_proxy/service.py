"""The proxy (CONTRACT §6.1): one call of the caller, forwarded to the kind's API with the
integration's credentials, answered with the provider's status, headers and body, streamed both ways.

A call goes: the integration (tenant-scoped, 404 otherwise) -> the kind's ProxyAuth (400 for a kind
without an API) -> the target, judged before anything is sent (target.py) -> fresh credentials
(freshness.py) -> the provider, through the worker's shared outbound client, within
PATCHBAY_HTTP_TIMEOUT (503 `provider_unreachable` otherwise) -> on a 401 with a refreshable token, one
refresh and one retry -> the answer, streamed back with `Patchbay-Proxy: upstream`. The call is
recorded in the activity log and the metrics when the request ends (after the body went out)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from patchbay.activity.service import record_activity_grouped
from patchbay.integration.service import get_integration_for_call
from patchbay.kit.dns import HostNotAllowed
from patchbay.kit.errors import APIError, InvalidRequest, ProviderUnreachable, ValidationError
from patchbay.kit.http import guarded_client
from patchbay.kit.provider_errors import UpstreamError
from patchbay.kit.request_scope import ORIGINAL_RAW_PATH, at_request_end
from patchbay.models import Integration
from patchbay.provider_proxy import freshness, metrics
from patchbay.provider_proxy.headers import request_headers, response_headers
from patchbay.provider_proxy.target import build_target, display_path, raw_proxy_path
from patchbay.providers import registry
from patchbay.providers.base import ProxyAuth
from patchbay.tenancy.context import ProjectContext

NOT_PROXIABLE = "This integration kind cannot be proxied."
HEADER_KEY_ONLY = "The proxy takes the API key in the Authorization header only."
USER_HOST_REFUSED = "This integration's host resolves to an address Patchbay may not call."
NO_CREDENTIALS = "This integration holds no credentials to call its provider with. Please reconnect it."
# A body this small (declared Content-Length) is held so that a 401 can be retried after a refresh;
# a larger one streams through and a 401 is answered as it came.
RETRY_BUFFER_BYTES = 1024 * 1024


@dataclass
class _Record:
    """What the activity log and the metrics get once the request ends."""

    ctx: ProjectContext
    row: Integration
    method: str
    started: float
    path: str | None = None
    status: int = 500
    outcome: str = "error"
    upstream_seconds: float = field(default=0.0)

    async def write(self) -> None:
        metrics.observe(
            self.row.kind, self.status, self.upstream_seconds or time.perf_counter() - self.started
        )
        await record_activity_grouped(
            self.ctx.runtime,
            integration_id=self.row.id,
            team_id=self.row.project_id,
            action="proxy",
            outcome=self.outcome,
            status_code=self.status,
            duration_ms=(time.perf_counter() - self.started) * 1000,
            method=self.method,
            path=self.path,
            api_key_id=self.ctx.subject.key_id,
        )


def _key_in_header(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return header[:7].lower() == "bearer " and bool(header[7:].strip())


def _raw_path(request: Request) -> bytes:
    raw = request.scope.get(ORIGINAL_RAW_PATH) or request.scope.get("raw_path")
    return raw if isinstance(raw, bytes) else request.url.path.encode()


async def _body(request: Request, retryable: bool) -> tuple[bytes | AsyncIterator[bytes] | None, bool]:
    """(content to send, whether it can be sent twice)."""
    declared = request.headers.get("content-length")
    if declared is None and "transfer-encoding" not in request.headers:
        return None, True
    if declared is not None and declared.isdigit() and int(declared) == 0:
        return b"", True
    if retryable and declared is not None and declared.isdigit() and int(declared) <= RETRY_BUFFER_BYTES:
        return await request.body(), True
    return request.stream(), False


async def _send(
    ctx: ProjectContext,
    auth: ProxyAuth,
    credentials: freshness.Credentials,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    content: bytes | AsyncIterator[bytes] | None,
) -> httpx.Response:
    settings = ctx.runtime.settings
    own_client = await _user_host_client(ctx, target) if auth.user_host else None
    client = own_client or ctx.runtime.http.get()
    outgoing = client.build_request(
        method, target, headers=headers, content=content, timeout=settings.http_timeout
    )
    try:
        auth.authorize(outgoing, credentials.config, credentials.secrets)
        async with asyncio.timeout(settings.http_timeout):
            if own_client is None:
                response = await ctx.runtime.http.send(outgoing)
            else:
                response = await own_client.send(outgoing, stream=True)
    except UpstreamError:
        await _close(own_client)
        raise ValidationError(NO_CREDENTIALS) from None
    except (TimeoutError, httpx.TransportError):
        await _close(own_client)
        raise ProviderUnreachable(
            "The provider could not be reached or did not respond in time. Please try again later."
        ) from None
    if own_client is not None:
        response.extensions["patchbay.own_client"] = own_client  # closed with the response
    return response


async def _user_host_client(ctx: ProjectContext, target: str) -> httpx.AsyncClient:
    """A client pinned to the checked address of a host the user typed in (GitLab's instance)."""
    host = httpx.URL(target).host
    try:
        return await guarded_client(ctx.runtime.settings, host, timeout=ctx.runtime.settings.http_timeout)
    except HostNotAllowed:
        raise ValidationError(USER_HOST_REFUSED) from None


async def _close(client: httpx.AsyncClient | None) -> None:
    if client is not None:
        await client.aclose()


async def _close_response(response: httpx.Response) -> None:
    await response.aclose()
    await _close(response.extensions.get("patchbay.own_client"))


async def proxy(ctx: ProjectContext, pk: int, request: Request) -> Response:
    started = time.perf_counter()
    # One read of what the call needs, outside any transaction (the route's session is read-only):
    # no connection is held while the provider is called.
    row = await get_integration_for_call(ctx, pk)
    if ctx.session.in_transaction():
        await ctx.session.close()  # SQLite: the read went through the session and holds a connection
    record = _Record(ctx, row, request.method, started)
    at_request_end(request.scope, record.write)
    try:
        response = await _forward(ctx, row, request, record)
    except APIError as exc:
        record.status, record.outcome = exc.status_code, exc.code
        raise
    record.status = response.status_code
    record.outcome = "success" if response.status_code < 400 else "upstream_error"
    record.upstream_seconds = time.perf_counter() - started
    return UpstreamAnswer(response)


async def _forward(
    ctx: ProjectContext, row: Integration, request: Request, record: _Record
) -> httpx.Response:
    auth = registry.proxy_auth(row.kind)
    if auth is None:
        raise ValidationError(NOT_PROXIABLE)
    if not _key_in_header(request):
        raise InvalidRequest(HEADER_KEY_ONLY)
    raw = raw_proxy_path(_raw_path(request))
    base = auth.base_url(ctx.runtime.settings, row.config or {})
    target = build_target(base, raw, request.scope.get("query_string", b""))
    record.path = display_path(raw)
    credentials = await freshness.current(ctx.runtime, row)
    retryable = auth.refreshable and credentials.refreshable
    content, replayable = await _body(request, retryable)
    headers = request_headers(request.scope["headers"])
    response = await _send(ctx, auth, credentials, request.method, target, headers, content)
    if response.status_code != 401 or not (retryable and replayable):
        return response
    try:
        credentials = await freshness.after_unauthorized(ctx.runtime, row)
    except APIError:
        return response  # the refresh failed: the caller sees the provider's own 401
    await _close_response(response)
    return await _send(ctx, auth, credentials, request.method, target, headers, content)


class UpstreamAnswer(Response):
    """The provider's answer, passed on chunk by chunk as it arrives (never held whole), with its
    headers as they came (Content-Length and Content-Encoding included: the raw bytes are passed on
    undecoded), less hop-by-hop ones and Set-Cookie, plus the marker.

    Lighter than Starlette's StreamingResponse, which starts a task group per response to watch for
    the caller leaving: here a watcher starts only once a second chunk shows the body is really
    streamed, and stops the copy when the caller has gone."""

    def __init__(self, upstream: httpx.Response) -> None:
        self.upstream = upstream
        self.status_code = upstream.status_code
        self.raw_headers = response_headers(upstream.headers.raw)
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher: asyncio.Task[None] | None = None
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            first = True
            async for chunk in self.upstream.aiter_raw():
                if not first:
                    if watcher is None:
                        watcher = asyncio.ensure_future(_left(receive))
                    elif watcher.done():
                        return  # the caller has gone: stop reading the provider's answer
                first = False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if watcher is not None:
                watcher.cancel()
            await _close_response(self.upstream)


async def _left(receive: Receive) -> None:
    """Returns once the caller disconnected (the request body was read before the answer started)."""
    while (await receive())["type"] != "http.disconnect":
        pass
