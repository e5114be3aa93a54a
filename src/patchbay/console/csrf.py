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
    # Purposes only need to differ from each other: any other label works (equivalent mutants).
    return _token(runtime, "session", session_hash)  # pragma: no mutate


def sign_in_token(runtime: Runtime, browser_value: str) -> str:
    return _token(runtime, "sign-in", browser_value)  # pragma: no mutate (any label unlike "session")


def _matches(expected: str, submitted: str | None) -> bool:
    if not submitted:
        return False
    return hmac.compare_digest(expected, submitted)


def session_form_valid(runtime: Runtime, session_hash: str, submitted: str | None) -> bool:
    return _matches(session_token(runtime, session_hash), submitted)


def sign_in_form_valid(runtime: Runtime, cookie: str | None, submitted: str | None) -> bool:
    if not cookie:
        return False
    return _matches(sign_in_token(runtime, cookie), submitted)
