"""Reading the `config` of credential kinds with PostHog's messages (shared by the AWS, S3-compatible,
PostgreSQL and Redshift kinds, which word their checks the same way), and the fields of a kind's
config as a form shows them (kind_fields, read from the kind's config model)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from patchbay.kit.errors import ValidationError


def required_text(config: Mapping[str, Any], key: str, friendly_name: str, kind: str) -> str:
    """A non-empty string, or PostHog's "<Friendly name> is required for <kind> integration"."""
    value = config.get(key)
    if isinstance(value, str) and value:
        return value
    raise ValidationError(f"{friendly_name} is required for {kind} integration")


def duplicate_name(name: str) -> str:
    """The detail of a create that meets a row of the same user-chosen name (PostHog's words)."""
    return f"An integration named '{name}' already exists"


# --- the fields of a credential kind, for forms (the connect page) ------------------------------------
# Multi-line values: PEM keys, key files, certificates.
MULTILINE = frozenset({"key", "private_key", "signing_key", "ssl_root_cert"})
# Words written in capitals in labels.
LABELS = {"key": "JSON key file"}
ACRONYMS = {"aws": "AWS", "id": "ID", "arn": "ARN", "url": "URL", "api": "API", "ssl": "SSL", "sid": "SID"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind's `config` as a person types it: `value` is "text", "integer" or "boolean";
    `secret` fields are never shown back."""

    name: str
    label: str
    value: str
    required: bool
    secret: bool
    multiline: bool
    hint: str


def _label(name: str) -> str:
    words = [ACRONYMS.get(word, word) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _types(prop: Mapping[str, Any]) -> set[str]:
    if "type" in prop:
        return {str(prop["type"])}
    return {str(option.get("type")) for option in prop.get("anyOf", [])}


def kind_fields(model: type[BaseModel]) -> list[FieldSpec]:
    """The typed-in fields of a kind's config model, in its order. Lists and objects are left out
    (they are set through the API), a field that takes a string or an object (a key file) is text."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields: list[FieldSpec] = []
    for name, prop in schema.get("properties", {}).items():
        types = _types(prop)
        value = (
            "text"
            if "string" in types
            else "integer"
            if "integer" in types
            else "boolean"
            if "boolean" in types
            else None
        )
        if value is None:
            continue
        hint = str(prop.get("description") or "")
        if prop.get("default") not in (None, ""):
            hint = f"{hint} Default: {prop['default']}.".strip()
        fields.append(
            FieldSpec(
                name=name,
                label=LABELS.get(name) or _label(name),
                value=value,
                required=name in required,
                secret=bool(prop.get("writeOnly")) or name in {"key", "key_info"},
                multiline=name in MULTILINE,
                hint=hint,
            )
        )
    return fields
