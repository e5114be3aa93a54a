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
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse

from patchbay.activity.service import record_activity_grouped
from patchbay.integration.service import get_integration_model
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
            response = await client.send(outgoing, stream=True)
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


async def proxy(ctx: ProjectContext, pk: int, request: Request) -> StreamingResponse:
    started = time.perf_counter()
    row = await get_integration_model(ctx, pk)
    # The connection goes back to the pool while the provider is called; the log reopens one.
    await ctx.session.commit()
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
    return _streamed(response)


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


def _streamed(response: httpx.Response) -> StreamingResponse:
    answer = StreamingResponse(
        response.aiter_raw(), status_code=response.status_code, background=BackgroundTask(_close_response, response)
    )
    # The provider's headers as they came (Content-Length and Content-Encoding included: the raw
    # bytes are passed on undecoded), less hop-by-hop ones and Set-Cookie, plus the marker.
    answer.raw_headers = response_headers(response.headers.raw)
    return answer
