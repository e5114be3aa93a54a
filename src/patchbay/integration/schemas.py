"""Request and response models of project integrations (PostHog's IntegrationConfig)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from patchbay.integration.kind_names import known_kinds
from patchbay.kit.errors import ValidationError
from patchbay.kit.request_body import RequestBody, json_document
from patchbay.kit.validation import translate

IntegrationKind = Literal[known_kinds()]  # type: ignore[valid-type]


class UserBasic(BaseModel):
    """The user who created an object (PostHog's nine-field user)."""

    id: int
    uuid: UUID
    distinct_id: str | None
    first_name: str
    last_name: str
    email: str
    is_email_verified: bool | None
    hedgehog_config: dict[str, Any] | None = None
    role_at_organization: str | None = None


class IntegrationHealth(BaseModel):
    """Whether the connection works, as Patchbay last learnt it (docs/health.md). `detail` says
    why in words safe to show; `expires_at` is when the stored access token stops working (null
    when it does not expire), `last_refreshed_at` when it was issued (connect or refresh),
    `last_checked_at` when `POST …/check/` last ran the kind's verification call."""

    status: Literal["healthy", "unknown", "refresh_failed", "reauthorization_required"]
    detail: str | None
    expires_at: datetime | None
    last_refreshed_at: datetime | None
    last_checked_at: datetime | None


class IntegrationOut(BaseModel):
    """A project integration. `config` holds the non-secret settings; secrets never leave the server."""

    id: int
    kind: str
    config: Any
    created_at: datetime
    created_by: UserBasic | None
    errors: str
    display_name: str
    files_write_requestable: bool = Field(
        description="Slack: whether the connection requests the files:write scope; false for other kinds."
    )
    installation_shared: bool | None = Field(description="GitHub installations only; null otherwise.")
    installation_status: Literal["connected", "unavailable"] | None = Field(
        description="GitHub installations only; null otherwise."
    )
    health: IntegrationHealth = Field(description="Patchbay's own: the connection's health.")


class IntegrationPage(BaseModel):
    """One page of integrations; `next`/`previous` are absolute URLs (null at the ends)."""

    count: int
    next: str | None
    previous: str | None
    results: list[IntegrationOut]


class IntegrationCreate(BaseModel):
    """A new integration: its kind and the kind's creation parameters."""

    model_config = ConfigDict(extra="ignore")

    kind: IntegrationKind = Field(description="The integration kind.")  # type: ignore[valid-type]
    config: dict[str, Any] = Field(default_factory=dict, description="Creation parameters of the kind.")


# The create route reads its body itself (JSON, form-encoded or multipart): its OpenAPI body says so.
_CREATE_REF = {"$ref": "#/components/schemas/IntegrationCreate"}
_CREATE_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "description": "The integration kind."},
        "config": {"type": "string", "description": "The kind's creation parameters, as a JSON string."},
        "key": {
            "type": "string",
            "format": "binary",
            "description": "A JSON key file (Google service accounts): its content becomes the config.",
        },
    },
    "required": ["kind"],
}
CREATE_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": _CREATE_REF},
        "application/x-www-form-urlencoded": {"schema": _CREATE_FORM},
        "multipart/form-data": {"schema": _CREATE_FORM},
    },
}
KEY_FILE_FIELD = "key"


def create_request(body: RequestBody) -> IntegrationCreate:
    """The create request from any body DRF accepts. In a form, `config` is a JSON string (DRF's
    JSONField reads form input so); an uploaded `key` file is a JSON key whose object becomes the
    config (PostHog's Google Cloud kinds read `request.FILES["key"]` that way), over any `config` field."""
    data = body.data
    if body.is_form:
        fields: dict[str, Any] = dict(data)
        if "config" in fields:
            fields["config"] = json_document(fields["config"], "config")
        if KEY_FILE_FIELD in body.files:
            key = json_document(body.files[KEY_FILE_FIELD], KEY_FILE_FIELD)
            if not isinstance(key, dict):
                raise_invalid_key()
            given = fields.get("config")
            base: dict[str, Any] = given if isinstance(given, dict) else {}
            fields["config"] = {**base, **key}
        data = fields
    try:
        return IntegrationCreate.model_validate(data)
    except PydanticValidationError as exc:
        raise translate([dict(error) for error in exc.errors()]) from None


def raise_invalid_key() -> None:
    raise ValidationError("The key file must hold a JSON object.", attr=KEY_FILE_FIELD)
