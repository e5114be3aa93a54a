"""Binding a flow to the browser that started it: the browser holds a random value in an HttpOnly
cookie, the server stores only its SHA-256, and the flow finishes only where both agree.

One value per browser is reused across flows, so two flows started side by side in one browser
(two tabs) both finish."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from starlette.responses import Response

_WELL_FORMED = re.compile(r"^[A-Za-z0-9_-]{43}$")


def value_for(cookie: str | None) -> str:
    """The browser's value: the one it already holds, or a fresh one."""
    if cookie and _WELL_FORMED.match(cookie):
        return cookie
    return secrets.token_urlsafe(32)  # pragma: no mutate (token_urlsafe's default is 32 bytes too)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def matches(bound: str | None, cookie: str | None) -> bool:
    """True when the request's cookie is the value the flow was bound to. Every flow is bound when it
    starts (and lives minutes); a row without a binding finishes nowhere."""
    if not bound or not cookie:
        return False
    return hmac.compare_digest(bound, digest(cookie))


def set_cookie(
    response: Response, name: str, value: str, *, max_age: int, secure: bool, path: str = "/"
) -> None:
    """HttpOnly and SameSite=Lax: scripts cannot read it, and it comes back on the provider's
    top-level redirect to the callback but not on cross-site form posts."""
    # samesite="lax" is also Starlette's default: said here so it stays so (equivalent mutants).
    response.set_cookie(
        name, value, max_age=max_age, path=path, samesite="lax", secure=secure, httponly=True  # pragma: no mutate
    )
