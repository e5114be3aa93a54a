"""What /api/schema/ adds to FastAPI's generated document: the API's own description, each kind's
`config` as a schema of its own, and request examples. Nothing here changes what the API accepts."""

from __future__ import annotations

from typing import Any

from patchbay.integration.kinds import config_models
from patchbay.integration.schemas import IntegrationCreate

API_DESCRIPTION = """\
Patchbay stores the connections of organizations and projects to third-party services and speaks
the Integrations part of PostHog's REST API.

**Authentication**: a personal API key, sent as `Authorization: Bearer phx_…` (or as the
`personal_api_key` body field or query parameter). Each route needs a scope (`integration:read`,
`integration:write`, `organization_integration:read`/`:write`, `proxy_record:read`/`:write`;
`:write` implies `:read`, `*` grants all). `{project_id}` and `{organization_id}` may be `@current`,
the key owner's current project or organization.

**Errors** are always `{"type", "code", "detail", "attr"}`; bad input is a 400, never a 422.
Lists are `{"count", "next", "previous", "results"}` with `limit`/`offset` and absolute URLs.
"""

# Request examples of `POST …/integrations/`, sent as they are by API tools (schemathesis too). The
# email and databricks examples live in their config schemas instead: sending them creates a domain
# at the email provider, or resolves a public hostname.
CREATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "twilio": {
        "summary": "Twilio: account SID and auth token",
        "value": {
            "kind": "twilio",
            "config": {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "your-auth-token"},
        },
    },
    "oauth": {
        "summary": "An OAuth kind, finished by the product instead of the browser callback",
        "value": {
            "kind": "slack",
            "config": {"code": "code-from-the-redirect", "state": "state-from-the-redirect"},
        },
    },
}

INTEGRATION_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "kind": "twilio",
    "config": {"account_sid": "AC0123456789abcdef0123456789abcdef"},
    "created_at": "2026-01-31T09:30:00.000000Z",
    "created_by": {
        "id": 1,
        "uuid": "0190f3b6-2b1c-7000-8000-000000000001",
        "distinct_id": "e5TQvBqf3uvnn1bJ",
        "first_name": "Ada",
        "last_name": "",
        "email": "ada@example.com",
        "is_email_verified": False,
        "hedgehog_config": None,
        "role_at_organization": None,
    },
    "errors": "",
    "display_name": "AC0123456789abcdef0123456789abcdef",
    "files_write_requestable": False,
    "installation_shared": None,
    "installation_status": None,
    "health": {
        "status": "healthy",
        "detail": None,
        "expires_at": None,
        "last_refreshed_at": None,
        "last_checked_at": "2026-02-01T08:00:00Z",
    },
}

# The probes answer without an API key (/metrics too, unless the operator gives it a token).
PUBLIC_OPERATIONS = {"health", "ready", "metrics"}
PROBES = {"health", "ready"}


def document(schema: dict[str, Any]) -> None:
    schema["info"]["description"] = API_DESCRIPTION
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    # The create route reads its own body (JSON, form or multipart): its model is added here.
    schemas.setdefault(
        "IntegrationCreate", IntegrationCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    _kind_configs(schemas)
    if "IntegrationOut" in schemas:
        schemas["IntegrationOut"]["examples"] = [INTEGRATION_EXAMPLE]
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation_id = operation.get("operationId", "")
            if operation_id.removeprefix("environments_") == "integrations_create":
                body = operation["requestBody"]["content"]["application/json"]
                body["examples"] = CREATE_EXAMPLES
            if operation_id in PUBLIC_OPERATIONS:
                operation["security"] = []
                for status in ("401", "403", "404", "429") if operation_id in PROBES else ("403", "404"):
                    operation["responses"].pop(status, None)


def _kind_configs(schemas: dict[str, Any]) -> None:
    """Each kind's `config` model as a component schema, and the create request pointing at them."""
    by_kind = config_models()
    refs: dict[str, str] = {}
    for kind, model in sorted(by_kind.items()):
        schemas.setdefault(
            model.__name__, model.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        refs[kind] = f"#/components/schemas/{model.__name__}"
    create = schemas.get("IntegrationCreate")
    if create is None:
        return
    config = create["properties"]["config"]
    per_model: dict[str, list[str]] = {}
    for kind, ref in refs.items():
        per_model.setdefault(ref.rsplit("/", 1)[1], []).append(kind)
    lines = [f"- {name}: {', '.join(kinds)}" for name, kinds in sorted(per_model.items())]
    config["description"] = (
        "The kind's creation parameters, described per kind by these schemas:\n"
        + "\n".join(lines)
        + "\n\nKinds not listed cannot be created through this route."
    )
    # OpenAPI has no way to tie a property's schema to a sibling's value without changing the body's
    # shape; this extension names the schema for each kind (the wire format stays PostHog's).
    config["x-config-schemas"] = refs
