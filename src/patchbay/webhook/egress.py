"""Where a webhook may go, and sending it there: `https` to public addresses only, the address
checked and pinned for the connection by kit.http's GuardedClient (a DNS answer cannot change
between check and use), no redirects, a bounded read of the answer.
PATCHBAY_WEBHOOK_ALLOW_PRIVATE=true lifts the address and scheme rules for local development and
tests."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.http import GuardedClient

MAX_URL_LENGTH = 2000
MAX_ANSWER_BYTES = 64 * 1024  # read and dropped: only the status matters
PUBLIC_ONLY = "Webhook URLs must resolve to public internet addresses."


class URLRefused(Exception):
    """The URL may not receive webhooks; the message says why (no secret in it)."""


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


async def check(settings: Settings, url: str) -> None:
    """Refuse `url` now when its host resolves to an internal address (at create and update)."""
    parts = _parts(settings, url)
    if settings.webhook_allow_private:
        return
    assert parts.hostname is not None
    try:
        await ensure_public_host(settings, parts.hostname)
    except HostNotAllowed:
        raise URLRefused(PUBLIC_ONLY) from None


def delivery_client(settings: Settings, *, limits: httpx.Limits | None = None) -> GuardedClient:
    """The delivery loop's one client: connections to a receiver are reused, and every host is
    checked again, and pinned, at every attempt (kit.http's guard and pinned backend)."""
    return GuardedClient(
        settings,
        timeout=settings.webhook_timeout,
        allow_internal=settings.webhook_allow_private,
        limits=limits,  # pragma: no mutate (pool size)
    )


async def admit(client: GuardedClient, url: str) -> None:
    parts = _parts(client.settings, url)
    assert parts.hostname is not None
    try:
        await client.admit(parts.hostname)
    except HostNotAllowed:
        raise URLRefused(PUBLIC_ONLY) from None


async def post(client: GuardedClient, url: str, headers: dict[str, str], body: bytes) -> int:
    """Check and pin the URL's host, then POST `body`; the answer's status (the caller bounds the
    time). Raises URLRefused, httpx.HTTPError."""
    await admit(client, url)
    response = await client.http.send(
        client.http.build_request("POST", url, headers=headers, content=body),  # pragma: no mutate
        stream=True,
    )
    try:
        # Equivalent mutants: httpcore reads 64 KiB at a time, so the first chunk reaches the bound.
        read = 0  # pragma: no mutate
        async for chunk in response.aiter_raw():
            read += len(chunk)  # pragma: no mutate
            if read >= MAX_ANSWER_BYTES:  # pragma: no mutate
                break
    finally:
        await response.aclose()
    return response.status_code
