"""Vercel's webhook signature: `x-vercel-signature` is the hex HMAC-SHA1 of the raw body, keyed with
the integration's client secret. Kept apart from the service so mutation testing can hold it alone."""

from __future__ import annotations

import hashlib
import hmac


def signature_valid(secret: str | None, raw_body: bytes, signature: str | None) -> bool:
    """False without a configured secret: an unsigned or unverifiable webhook is never accepted."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
