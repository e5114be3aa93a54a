"""provider_proxy.headers on their own: which of the caller's headers reach the provider, and which
of the provider's come back (CONTRACT §6.1)."""

from __future__ import annotations

from patchbay.provider_proxy.headers import MARKER, request_headers, response_headers


def test_only_the_listed_and_prefixed_headers_reach_the_provider() -> None:
    sent = request_headers(
        [
            (b"authorization", b"Bearer phx_SENTINEL"),
            (b"cookie", b"session=SENTINEL"),
            (b"host", b"patchbay.local"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"content-type", b"application/json"),
            (b"accept", b"*/*"),
            (b"content-length", b"2"),
            (b"patchbay-proxy-x-custom", b"kept"),
            (b"patchbay-proxy-", b"no name"),
            (b"patchbay-proxy-authorization", b"Bearer SENTINEL"),
            (b"patchbay-proxy-cookie", b"SENTINEL"),
            (b"patchbay-proxy-host", b"evil.example"),
            (b"patchbay-proxy-x-forwarded-host", b"evil.example"),
            (b"patchbay-proxy-content-length", b"999"),
            (b"patchbay-proxy-transfer-encoding", b"chunked"),
            (b"patchbay-proxy-patchbay-proxy-x", b"nested"),
            (b"user-agent", b"curl"),
        ]
    )
    assert sent == [
        ("content-type", "application/json"),
        ("accept", "*/*"),
        ("content-length", "2"),
        ("x-custom", "kept"),
    ]


def test_the_providers_headers_come_back_less_hop_by_hop_cookies_and_ours() -> None:
    back = response_headers(
        [
            (b"Content-Type", b"application/json"),
            (b"Retry-After", b"30"),
            (b"Set-Cookie", b"b=SENTINEL"),
            (b"set-cookie", b"a=SENTINEL"),
            (b"Connection", b"keep-alive"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Patchbay-Proxy", b"forged"),
            (b"patchbay-anything", b"forged"),
            (b"X-Request-Id", b"r1"),
        ]
    )
    assert back == [
        (b"Content-Type", b"application/json"),
        (b"Retry-After", b"30"),
        (b"X-Request-Id", b"r1"),
        MARKER,
    ]
