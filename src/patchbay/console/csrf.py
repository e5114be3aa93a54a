"""CSRF tokens of the console's forms. A signed-in form carries an HMAC of the session (its hash),
so only a page of that session can post; the sign-in form, before any session, carries an HMAC of
a random value the browser holds in an HttpOnly, SameSite=Lax cookie (double submit). The key is
derived from the key ring; a cross-site post carries no token the attacker could compute."""

from __future__ import annotations

import hashlib
import hmac

from patchbay.runtime import Runtime

FIELD = "csrf_token"
SIGN_IN_COOKIE = "pb_console_csrf"
SIGN_IN_MAX_AGE = 2 * 60 * 60


def _token(runtime: Runtime, purpose: str, value: str) -> str:
    key = runtime.keyring.derive("patchbay.console.csrf")  # pragma: no mutate (a label: any other works)
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def session_token(runtime: Runtime, session_hash: str) -> str:
    return _token(runtime, "session", session_hash)


def sign_in_token(runtime: Runtime, browser_value: str) -> str:
    return _token(runtime, "sign-in", browser_value)


def _matches(expected: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(expected, submitted or "")


def session_form_valid(runtime: Runtime, session_hash: str, submitted: str | None) -> bool:
    return _matches(session_token(runtime, session_hash), submitted)


def sign_in_form_valid(runtime: Runtime, cookie: str | None, submitted: str | None) -> bool:
    return bool(cookie) and _matches(sign_in_token(runtime, cookie or ""), submitted)
