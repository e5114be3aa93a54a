"""An httpx transport that sends through aiohttp's connection pool and C parser.

The proxy's shared client (kit.http.SharedClient) makes one provider call per proxied request; with
httpx's own transport (httpcore and h11, pure Python) that call cost about 1.5 ms of CPU, most of
the proxy's. Callers keep httpx's API (requests are built, authorised and read as before); only the
wire underneath changes. The request goes out as httpx built it: its headers exactly (no header of
aiohttp's own is added), its URL as encoded (never re-quoted), no redirect followed, no cookie kept,
the answer's bytes passed on undecoded. aiohttp's errors become httpx's, so callers catch one family.
Environment proxies (HTTP(S)_PROXY) are not used: aiohttp's trust_env would also read ~/.netrc and
add its credentials to requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from yarl import URL

# Headers aiohttp adds on its own when the request lacks them; skipped so the wire carries only
# what httpx built.
_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
# Providers' answers may carry long cookies and links: h11's limit (64 KiB), not aiohttp's 8 KiB.
_MAX_HEADER_BYTES = 65536


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session, opened on first use in the running event loop (a transport serves one
    loop, as SharedClient keeps one client per loop). No cap on connections: every concurrent
    proxy call of a worker shares it. Certificates are checked as httpx's default client does."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ssl=httpx.create_ssl_context())
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                max_line_size=_MAX_HEADER_BYTES,
                max_field_size=_MAX_HEADER_BYTES,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        # Names in the case they were given (aiohttp writes them as it gets them, UTF-8 encoded).
        encoding = request.headers.encoding
        headers = [
            (name.decode(encoding), value.decode(encoding))
            for name, value in request.headers.raw
            if name.lower() != b"transfer-encoding"
        ]
        streamed = "transfer-encoding" in request.headers and "content-length" not in request.headers
        present = {k.lower() for k, _ in headers}
        try:
            answer = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=_body(request),
                chunked=True if streamed else None,
                skip_auto_headers=[name for name in _AUTO_HEADERS if name.lower() not in present],
                allow_redirects=False,
                timeout=_timeout(request),
            )
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc, request) from exc
        return httpx.Response(
            answer.status,
            headers=list(answer.raw_headers),
            stream=_AnswerStream(answer, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (answer.reason or "").encode()},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _body(request: httpx.Request) -> bytes | AsyncIterator[bytes] | None:
    if isinstance(request.stream, httpx.ByteStream):
        content = request.content
        # httpx sends no Content-Length for an empty GET; aiohttp would add one for b"".
        return content if content or "content-length" in request.headers else None
    return _chunks(request)


async def _chunks(request: httpx.Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream:  # type: ignore[union-attr]
        yield chunk


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    given: dict[str, float | None] = request.extensions.get("timeout", {})
    return aiohttp.ClientTimeout(
        total=None,
        connect=given.get("pool"),  # waiting for a pooled connection (and making one)
        sock_connect=given.get("connect"),
        sock_read=given.get("read"),
    )


class _AnswerStream(httpx.AsyncByteStream):
    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._answer.content.iter_any():
                yield chunk
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._answer.content.is_eof():
            self._answer.release()  # read to the end: the connection goes back to the pool
        else:
            self._answer.close()  # left mid-body: the connection cannot be reused


def _httpx_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    kind: Any
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.ClientOSError):
        kind = httpx.ReadError
    else:  # disconnected, a malformed answer or body, anything else of aiohttp's
        kind = httpx.RemoteProtocolError
    return kind(str(exc) or type(exc).__name__, request=request)  # type: ignore[no-any-return]
