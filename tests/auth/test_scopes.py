"""auth.scopes: what a key's scopes grant, and the message for a scope nobody knows (it lists every
object a key may name)."""

from __future__ import annotations

from patchbay.auth.scopes import SCOPE_OBJECTS, invalid_scope_message, missing_scope, validate_scope


def test_an_invalid_scope_names_what_would_be_valid() -> None:
    message = invalid_scope_message("root:all")
    assert message.startswith(
        "Invalid scope: root:all. Valid scopes are * or <object>:read or <object>:write"
    )
    assert message.endswith("with <object> one of: " + ", ".join(sorted(SCOPE_OBJECTS)))
    assert "integration_credentials" in message and "webhook" in message


def test_a_key_without_scopes_has_every_scope_but_the_explicit_ones() -> None:
    """PostHog shows a key stored with no scopes as `*`: everything, except what must be named."""
    assert missing_scope([], "integration:write") is None
    assert missing_scope([], "webhook:read") is None
    assert missing_scope([], "integration_credentials:read") == "integration_credentials:read"
    assert missing_scope(["integration:read"], "integration:write") == "integration:write"
    assert missing_scope(["integration:write"], "integration:read") is None


def test_a_scope_names_a_known_object_and_read_or_write() -> None:
    assert validate_scope("*") and validate_scope("integration:read") and validate_scope("webhook:write")
    for scope in ("bogus:read", "integration:admin", "integration", "integration:", ":read", "integration:read:x"):
        assert not validate_scope(scope), scope
