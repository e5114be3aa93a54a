"""Where a webhook may go, and sending it there: `https` to public addresses only, the address
checked and pinned for the connection (a DNS answer cannot change between check and use), no
redirects, a bounded read of the answer. PATCHBAY_WEBHOOK_ALLOW_PRIVATE=true lifts the address and
scheme rules for local development and tests."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed, ensure_public_host

MAX_URL_LENGTH = 2000
MAX_ANSWER_BYTES = 64 * 1024  # read and dropped: only the status matters


class URLRefused(Exception):
    """The URL may not receive webhooks; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Target:
    url: str  # what the request is sent to (the pinned address in place of the host)
    host_header: str | None  # the URL's own host, when pinned
    sni_hostname: str | None


def _parts(settings: Settings, url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise URLRefused(f"Ensure this URL has no more than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise URLRefused("Enter a valid URL.") from None
    allowed = ("https", "http") if settings.webhook_allow_private else ("https",)
    if parts.scheme not in allowed:
        raise URLRefused("Webhook URLs must use https.")
    if not parts.hostname:
        raise URLRefused("Enter a valid URL.")
    if parts.username is not None or parts.password is not None:
        raise URLRefused("Webhook URLs may not contain credentials.")
    if port == 0:
        raise URLRefused("Enter a valid URL.")
    return parts


def normalized(settings: Settings, url: str) -> str:
    """The URL as stored, after the checks that need no DNS."""
    return urlunsplit(_parts(settings, url))


async def resolve(settings: Settings, url: str) -> Target:
    """Check `url` now (again at every delivery) and pin it to one of its checked addresses."""
    parts = _parts(settings, url)
    if settings.webhook_allow_private:
        return Target(url, None, None)
    host = parts.hostname
    assert host is not None
    try:
        addresses = await ensure_public_host(settings, host)
    except HostNotAllowed:
        raise URLRefused("Webhook URLs must resolve to public internet addresses.") from None
    address = addresses[0]
    pinned_host = f"[{address}]" if ":" in address else address
    netloc = pinned_host + (f":{parts.port}" if parts.port else "")
    host_header = parts.netloc.rpartition("@")[2]
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned, host_header, host)


async def post(client: httpx.AsyncClient, target: Target, headers: dict[str, str], body: bytes) -> int:
    """POST `body`; the answer's status (the caller bounds the time). Raises httpx.HTTPError."""
    request_headers = dict(headers)
    extensions: dict[str, str] = {}
    if target.host_header is not None:
        request_headers["Host"] = target.host_header
    if target.sni_hostname is not None:
        extensions["sni_hostname"] = target.sni_hostname
    request = client.build_request(
        "POST", target.url, headers=request_headers, content=body, extensions=extensions
    )
    response = await client.send(request, stream=True)
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_ANSWER_BYTES:
                break
    finally:
        await response.aclose()
    return response.status_code
