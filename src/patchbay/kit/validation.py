"""Request validation errors translated to DRF's words, so clients see PostHog's messages."""

from __future__ import annotations

from typing import Any

from patchbay.kit.errors import APIError, InvalidRequest, ValidationError

_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def _attr(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in _LOCATIONS]
    return "__".join(parts) if parts else None


def translate(errors: list[dict[str, Any]]) -> APIError:
    if not errors:
        return ValidationError("Invalid input.")
    error = errors[0]
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    attr = _attr(loc)
    value = error.get("input")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return InvalidRequest(f"JSON parse error - {reason}", code="parse_error")
    if attr is None and kind in {"model_attributes_type", "dict_type", "model_type"}:
        got = type(value).__name__ if value is not None else "null"
        return ValidationError(f"Invalid data. Expected a dictionary, but got {got}.", code="invalid_input")
    if kind == "missing":
        return ValidationError("This field is required.", code="required", attr=attr)
    if kind in {"literal_error", "enum"}:
        return ValidationError(f'"{value}" is not a valid choice.', code="invalid_choice", attr=attr)
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return ValidationError("A valid integer is required.", code="invalid_input", attr=attr)
    if kind in {"string_type"}:
        return ValidationError("Not a valid string.", code="invalid_input", attr=attr)
    if kind in {"bool_parsing", "bool_type"}:
        return ValidationError("Must be a valid boolean.", code="invalid_input", attr=attr)
    if kind in {"dict_type"}:
        got = type(value).__name__ if value is not None else "null"
        return ValidationError(
            f'Expected a dictionary of items but got type "{got}".', code="not_a_dict", attr=attr
        )
    if kind in {"list_type"}:
        return ValidationError("Expected a list of items.", code="not_a_list", attr=attr)
    if kind in {"uuid_parsing", "uuid_type"}:
        return ValidationError("Must be a valid UUID.", code="invalid_input", attr=attr)
    if kind in {"string_too_long"}:
        limit = (error.get("ctx") or {}).get("max_length")
        return ValidationError(
            f"Ensure this field has no more than {limit} characters.", code="max_length", attr=attr
        )
    if kind in {"string_too_short"}:
        return ValidationError("This field may not be blank.", code="blank", attr=attr)
    if kind in {"value_error", "assertion_error"}:
        message = str(error.get("msg", "Invalid input.")).removeprefix("Value error, ")
        return ValidationError(message, code="invalid_input", attr=attr)
    if kind in {"greater_than_equal", "greater_than"}:
        limit = (error.get("ctx") or {}).get("ge", (error.get("ctx") or {}).get("gt"))
        return ValidationError(
            f"Ensure this value is greater than or equal to {limit}.", code="min_value", attr=attr
        )
    if kind in {"less_than_equal", "less_than"}:
        limit = (error.get("ctx") or {}).get("le", (error.get("ctx") or {}).get("lt"))
        return ValidationError(
            f"Ensure this value is less than or equal to {limit}.", code="max_value", attr=attr
        )
    return ValidationError(str(error.get("msg", "Invalid input.")), code="invalid_input", attr=attr)
