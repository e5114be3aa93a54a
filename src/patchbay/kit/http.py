"""The one factory for outbound HTTP clients (timeouts always set, redirects never followed) and the
one reading of a provider's "wait this long" headers.

`outbound_client()` is for operator-configured provider URLs. A host a user typed in goes through
`guarded_client()`: its name is resolved once, every address is checked by the address guard
(kit.dns), and the client connects to the checked address only."""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Mapping
from typing import Any

import httpcore
import httpx

from patchbay.config import Settings
from patchbay.kit.dns import ensure_public_host

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_RETRY_AFTER = 60
USER_AGENT = "Patchbay/0.1"


def outbound_client(
    *,
    timeout: float | httpx.Timeout | None = None,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """Operator-configured provider URLs only. Hosts typed in by users: `guarded_client`. `limits`:
    the connection pool's (httpx's defaults keep 20 idle connections)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        limits=limits
        if limits is not None
        else httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials the address the guard checked whenever the client connects to the checked name.

    Only the TCP connection is redirected: TLS (SNI and the certificate's name check) and the Host
    header still use the name from the URL. Any other name is refused, so a client of one checked
    host cannot be pointed anywhere else."""

    def __init__(self, host: str, address: str) -> None:
        self.host = _normal(host)
        self.address = address
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        if _normal(host) != self.host:
            raise httpcore.ConnectError(f"this client connects to {self.host} only")
        return await self._backend.connect_tcp(
            self.address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
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


async def guarded_client(
    settings: Settings,
    host: str,
    *,
    timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 - the client's, as in outbound_client
    headers: dict[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """A client for a host a user typed in. Raises kit.dns.HostNotAllowed when any address the
    name resolves to is internal. The checked answer is pinned: a second DNS answer (rebinding)
    is never looked up, and environment proxies (which would resolve the name again) are ignored."""
    addresses = await ensure_public_host(settings, host)
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    # httpx has no option for the network backend: its pool is rebuilt around the pinned one.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        network_backend=PinnedBackend(host, addresses[0]),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
    )


def retry_after_seconds(
    source: httpx.Response | Mapping[str, str], default: int = DEFAULT_RETRY_AFTER
) -> int:
    """Seconds to wait, from Retry-After (seconds or HTTP date), X-RateLimit-Reset-After (seconds),
    X-RateLimit-Reset (Unix seconds, ClickUp/GitHub) or X-RateLimit-Requests-Reset (Unix
    milliseconds, Linear); `default` when none of them says. Never less than one second."""
    headers = source.headers if isinstance(source, httpx.Response) else source
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time()
    raw = lowered.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            return max(1, int(float(raw)))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return max(1, int(parsed.timestamp() - now + 0.999))
    raw = lowered.get("x-ratelimit-reset-after")
    if raw:
        try:
            return max(1, int(float(raw)))
        except ValueError:
            pass
    for name, scale in (("x-ratelimit-reset", 1.0), ("x-ratelimit-requests-reset", 1000.0)):
        raw = lowered.get(name)
        if not raw:
            continue
        try:
            value = float(raw) / scale
        except ValueError:
            continue
        # A small number is already a delay in seconds; a large one is an epoch timestamp.
        wait = value - now if value > 1_000_000_000 else value
        return max(1, int(wait + 0.999))
    return default
