"""auth.scopes: the message for a scope nobody knows lists every object a key may name."""

from __future__ import annotations

from patchbay.auth.scopes import SCOPE_OBJECTS, invalid_scope_message


def test_an_invalid_scope_names_what_would_be_valid() -> None:
    message = invalid_scope_message("root:all")
    assert message.startswith(
        "Invalid scope: root:all. Valid scopes are * or <object>:read or <object>:write"
    )
    assert message.endswith("with <object> one of: " + ", ".join(sorted(SCOPE_OBJECTS)))
    assert "integration_credentials" in message and "webhook" in message
