"""The one factory for outbound HTTP clients (timeouts always set, redirects never followed) and the
one reading of a provider's "wait this long" headers.

`outbound_client()` is for operator-configured provider URLs. A host a user typed in goes through
`guarded_client()` (one host) or a `GuardedClient` (hosts admitted one by one, the webhook
delivery loop): its name is resolved once, every address is checked by the address guard
(kit.dns), and the client connects to the checked address only."""

from __future__ import annotations

import asyncio
import ssl
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, NamedTuple

import httpcore
import httpx

from patchbay.config import Settings
from patchbay.kit.aiohttp_transport import AiohttpTransport
from patchbay.kit.dns import HostNotAllowed, ensure_public_host

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Patchbay/0.1"
USER_AGENT_HEADER = "User-Agent"  # a constant: the name's case is not a mutant worth testing
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own


def outbound_client(
    *,
    timeout: float | httpx.Timeout | None = None,
    # Defaults every caller overrides or that httpx shares (equivalent mutants; both cookie
    # settings are tested in tests/kit/test_http.py).
    base_url: str = "",  # pragma: no mutate
    headers: dict[str, str] | None = None,
    http2: bool = False,  # pragma: no mutate
    limits: httpx.Limits = DEFAULT_LIMITS,
    keep_cookies: bool = True,  # pragma: no mutate
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """Operator-configured provider URLs only. Hosts typed in by users: `guarded_client`.
    `http2`: offered over TLS (ALPN) for providers that speak nothing else (Apple's APNs).
    `keep_cookies=False`: a provider's Set-Cookie is never stored, so never sent again (a client
    shared by every tenant must not carry one integration's cookies into another's calls).
    `transport`: the wire underneath (the shared client's is aiohttp's); `limits` and `http2` are
    then the transport's business."""
    return httpx.AsyncClient(
        cookies=None if keep_cookies else CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        base_url=base_url,
        http2=http2,  # pragma: no mutate (APNs' transport, tested in tests/providers/apns; not access)
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=False,  # pragma: no mutate (httpx's default too: said so it stays so)
        headers={USER_AGENT_HEADER: USER_AGENT, **(headers or {})},
        limits=limits,  # pragma: no mutate (pool sizes: not access)
        transport=transport,
    )


class _Held(NamedTuple):
    """One event loop's shared client and the transport under it (SharedClient.send uses it)."""

    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    transport: AiohttpTransport


class SharedClient:
    """One `outbound_client` per event loop, kept open (its connection pool is the point): for hot
    paths such as the proxy, where a client per request would cost a TLS context and new connections
    each time. Timeouts are given per request. `aclose()` closes them all (Runtime.close)."""

    def __init__(self) -> None:
        self._clients: dict[int, _Held] = {}

    def _held(self) -> _Held:
        loop = asyncio.get_running_loop()
        held = self._clients.get(id(loop))
        if held is not None and held.loop is loop and not held.client.is_closed:
            return held
        # aiohttp's pool and C parser underneath: httpx's own transport cost the proxy about 1.5 ms
        # of CPU per call (kit.aiohttp_transport).
        transport = AiohttpTransport()
        held = _Held(loop, outbound_client(keep_cookies=False, transport=transport), transport)
        # Entries of loops that are gone (tests run one loop each) are dropped, not kept forever.
        self._clients = {k: v for k, v in self._clients.items() if not v.loop.is_closed()}
        self._clients[id(loop)] = held
        return held

    def get(self) -> httpx.AsyncClient:
        return self._held().client

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send a request built with `get().build_request(...)`, its answer streamed (as
        `client.send(..., stream=True)`), straight through the transport: httpx's client layers
        (redirects, auth, cookies) have nothing to do here (no redirect is followed, the caller
        authorises the request, no cookie is kept or sent) and cost ~5 % of a proxied call."""
        response = await self._held().transport.handle_async_request(request)
        response.request = request
        return response

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        held = self._clients.pop(id(loop), None)
        if held is not None:
            await held.client.aclose()


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials, for each name the client was opened for, the address the guard checked.

    Only the TCP connection is redirected: TLS (SNI and the certificate's name check) and the Host
    header still use the name from the URL. Any other name is refused, so a client of checked
    hosts cannot be pointed anywhere else. A name pinned to None is dialled by name (only when the
    operator allowed internal hosts: PATCHBAY_WEBHOOK_ALLOW_PRIVATE)."""

    def __init__(self) -> None:
        self.pins: dict[str, str | None] = {}
        self._backend = httpcore.AnyIOBackend()

    def pin(self, host: str, address: str | None) -> None:
        self.pins[_normal(host)] = address

    def unpin(self, host: str) -> None:
        self.pins.pop(_normal(host), None)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        name = _normal(host)
        if name not in self.pins:
            admitted = ", ".join(sorted(self.pins)) or "no host"  # pragma: no mutate (message)
            raise httpcore.ConnectError(f"this client connects to {admitted} only")
        return await self._backend.connect_tcp(
            self.pins[name] or host,
            port,
            # Passed through as httpcore gives them (equivalent mutants: the tests use the defaults).
            timeout=timeout,  # pragma: no mutate
            local_address=local_address,  # pragma: no mutate
            socket_options=socket_options,  # pragma: no mutate
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from a user-supplied host")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _normal(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


class GuardedClient:
    """One httpx client (`http`) that reaches only the hosts admitted with `admit()`: each is
    resolved, checked by the address guard and pinned to a checked address. Admitting a host again
    checks it again (the webhook delivery loop does at every attempt, keeping its connections
    pooled). Environment proxies (which would resolve the name again) are ignored."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 - the client's, as in outbound_client
        headers: dict[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        allow_internal: bool = False,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.settings = settings
        self.allow_internal = allow_internal
        self.backend = PinnedBackend()
        # httpx has no option for the network backend: the transport's pool is replaced by one built
        # around the pinned backend (so the transport's own TLS options never apply).
        transport = httpx.AsyncHTTPTransport()
        limits = limits or DEFAULT_LIMITS
        transport._pool = httpcore.AsyncConnectionPool(
            # trust_env: SSL_CERT_FILE/SSL_CERT_DIR only (proxies are the client's, below).
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),  # pragma: no mutate
            network_backend=self.backend,
            max_connections=limits.max_connections,  # pragma: no mutate (pool size)
            max_keepalive_connections=limits.max_keepalive_connections,  # pragma: no mutate
        )
        self.http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            # httpx's default too, so a mutant here is equivalent; held by the redirect test.
            follow_redirects=False,  # pragma: no mutate
            # An explicit transport already keeps environment proxies out (equivalent mutants).
            trust_env=False,  # pragma: no mutate
            headers={USER_AGENT_HEADER: USER_AGENT, **(headers or {})},
        )

    async def admit(self, host: str) -> None:
        """Check `host` now and pin it. Raises kit.dns.HostNotAllowed when any address it resolves
        to is internal (never with `allow_internal`, where the name is dialled as it resolves)."""
        if self.allow_internal:
            self.backend.pin(host, None)
            return
        try:
            addresses = await ensure_public_host(self.settings, host)
        except HostNotAllowed:
            self.backend.unpin(host)  # refused now: no longer reachable through an earlier check
            raise
        self.backend.pin(host, addresses[0])

    async def aclose(self) -> None:
        await self.http.aclose()


async def guarded_client(
    settings: Settings,
    host: str,
    *,
    timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 - the client's, as in outbound_client
    headers: dict[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """A client for one host a user typed in. Raises kit.dns.HostNotAllowed when any address the
    name resolves to is internal. The checked answer is pinned: a second DNS answer (rebinding)
    is never looked up."""
    guarded = GuardedClient(settings, timeout=timeout, headers=headers, verify=verify)
    try:
        await guarded.admit(host)
    except BaseException:
        await guarded.aclose()
        raise
    return guarded.http
