"""CSRF protection of the connect page's forms: a signed double-submit token. The browser holds a
random value in an HttpOnly, SameSite=Lax cookie; the form carries an HMAC of that value and the
connect session, signed with a key derived from the key ring. A cross-site post carries neither
the cookie nor a token the attacker could compute."""

from __future__ import annotations

import hashlib
import hmac

from patchbay.runtime import Runtime

COOKIE = "pb_connect_csrf"
FIELD = "csrf_token"
MAX_AGE = 2 * 60 * 60


def form_token(runtime: Runtime, browser_value: str, session_id: int) -> str:
    key = runtime.keyring.derive("patchbay.connect.csrf")  # pragma: no mutate (a label: any other works)
    return hmac.new(key, f"{session_id}:{browser_value}".encode(), hashlib.sha256).hexdigest()


def is_valid(runtime: Runtime, cookie: str | None, submitted: str | None, session_id: int) -> bool:
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(form_token(runtime, cookie, session_id), submitted)
