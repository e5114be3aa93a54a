"""API key scopes: `<object>:<read|write>` or `*`; `:write` implies `:read`. Objects in
`EXPLICIT_OBJECTS` are granted only by naming them: `*` does not reach them (handing out provider
tokens must be asked for on purpose)."""

from __future__ import annotations

SCOPE_OBJECTS = frozenset(
    {
        "integration",
        "integration_credentials",
        "organization_integration",
        "proxy_record",
        "webhook",
        "organization",
        "project",
        "user",
        "feature_flag",
        "insight",
        "person",
        "event_definition",
        "action",
        "cohort",
        "dashboard",
        "experiment",
        "hog_function",
        "query",
        "session_recording",
        "survey",
    }
)


EXPLICIT_OBJECTS = frozenset({"integration_credentials"})


def invalid_scope_message(scope: str) -> str:
    """The error for a bad scope, listing what would have been valid."""
    objects = ", ".join(sorted(SCOPE_OBJECTS))
    return (
        f"Invalid scope: {scope}. Valid scopes are * or <object>:read or <object>:write, "
        f"with <object> one of: {objects}"
    )


def validate_scope(scope: str) -> bool:
    if scope == "*":
        return True
    # rpartition is the same here: no object name holds a colon (equivalent mutant).
    obj, sep, action = scope.partition(":")  # pragma: no mutate
    return bool(sep) and obj in SCOPE_OBJECTS and action in {"read", "write"}


def parse_scopes(raw: str | None) -> list[str]:
    if raw is None or not raw.strip():
        return ["*"]
    scopes = [s.strip() for s in raw.replace(" ", ",").split(",") if s.strip()]
    for scope in scopes:
        if not validate_scope(scope):
            raise ValueError(invalid_scope_message(scope))
    return scopes


def missing_scope(granted: list[str], required: str) -> str | None:
    """The required scope when the key lacks it, else None."""
    effective = granted or ["*"]  # PostHog shows empty scopes as ["*"]
    obj, _, action = required.partition(":")  # pragma: no mutate (one colon: rpartition is the same)
    if required in effective or (action == "read" and f"{obj}:write" in effective):
        return None
    if "*" in effective and obj not in EXPLICIT_OBJECTS:
        return None
    return required
