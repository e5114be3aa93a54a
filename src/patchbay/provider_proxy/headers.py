"""Which headers cross the proxy, each way (CONTRACT §6.1).

To the provider: `Content-Type`, `Accept`, `Content-Length` (so a body is not re-chunked) and every
`Patchbay-Proxy-<Name>` header as `<Name>`. Nothing else of the caller's: its `Authorization` (the
Patchbay key), `Cookie`, `Host` and `X-Forwarded-*` never reach the provider, not even when asked for
through the prefix. Back to the caller: the provider's headers less hop-by-hop ones and `Set-Cookie`,
plus `Patchbay-Proxy: upstream`."""

from __future__ import annotations

from collections.abc import Iterable

PREFIX = "patchbay-proxy-"
MARKER = (b"patchbay-proxy", b"upstream")
_PASSED = frozenset({"content-type", "accept", "content-length"})
# RFC 9110 §7.6.1 hop-by-hop headers, and the ones a proxy sets for itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_NEVER_FORWARDED = _HOP_BY_HOP | {"authorization", "cookie", "host", "content-length", "forwarded"}


def _never_forwarded(name: str) -> bool:
    return name in _NEVER_FORWARDED or name.startswith("x-forwarded-") or name.startswith(PREFIX)


def request_headers(incoming: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The headers sent to the provider, from the caller's raw (lower-case) ASGI headers."""
    out: list[tuple[str, str]] = []
    for raw_name, raw_value in incoming:
        name = raw_name.decode("latin-1")  # pragma: no mutate
        value = raw_value.decode("latin-1")  # pragma: no mutate
        if name in _PASSED:
            out.append((name, value))
        elif name.startswith(PREFIX):
            forwarded = name[len(PREFIX) :]
            if forwarded and not _never_forwarded(forwarded):
                out.append((forwarded, value))
    return out


def response_headers(upstream: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The provider's raw headers for the caller, with the marker that they came from the provider."""
    out = [
        (name, value)
        for name, value in upstream
        if (lowered := name.lower()) not in _HOP_BY_HOP_BYTES
        and lowered != b"set-cookie"
        and not lowered.startswith(b"patchbay-")
    ]
    out.append(MARKER)
    return out


_HOP_BY_HOP_BYTES = frozenset(name.encode() for name in _HOP_BY_HOP)
