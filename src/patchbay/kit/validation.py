"""Request validation errors translated to DRF's words, so clients see PostHog's messages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from patchbay.kit.errors import APIError, InvalidRequest, NotFound, ValidationError

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
    if value is None and attr is not None and "input" in error:
        # A field that takes no null was sent null: DRF says so before judging the type.
        return ValidationError("This field may not be null.", code="null", attr=attr)
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


# --- characters no stored string may hold --------------------------------------------------------------
# DRF's CharField refuses both with these messages; PostgreSQL cannot store a NUL in text or JSON, and a
# lone surrogate (JSON's "\ud800") cannot be encoded as UTF-8 for the database, a log line or a provider.
NULL_CHARACTER = "Null characters are not allowed."
SURROGATE_CHARACTER = "Surrogate characters are not allowed: U+{:X}."


def unsafe_character(value: str) -> ValidationError | None:
    """The error for a NUL or a lone surrogate in `value` (attr unset), or None."""
    if "\x00" in value:
        return ValidationError(NULL_CHARACTER, code="null_characters_not_allowed")
    if value.isascii():
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # only a surrogate fails: Python strings hold no other invalid text
        return ValidationError(
            SURROGATE_CHARACTER.format(ord(value[exc.start])), code="surrogate_characters_not_allowed"
        )
    return None


def _joined(attr: str | None, part: object) -> str:
    return f"{attr}__{part}" if attr else str(part)


def reject_unsafe_strings(value: Any, attr: str | None = None) -> None:
    """Walk JSON-like data (objects, arrays, strings; keys too) and raise a 400 whose `attr` names the
    first string holding a NUL or a lone surrogate (`config__account_sid`, as other nested errors)."""
    if isinstance(value, str):
        error = unsafe_character(value)
        if error is not None:
            error.attr = attr
            raise error
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_unsafe_strings(key, attr)  # a bad key is named by its object: never echo it back
            reject_unsafe_strings(item, _joined(attr, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_unsafe_strings(item, _joined(attr, index))


_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def reject_unsafe_input(request: Request) -> None:
    """App-wide dependency: every string a request brings — path segments, query parameters, a JSON
    body at any depth — is refused when it holds a NUL or a lone surrogate, before any route or
    the database sees it. Runs after FastAPI read the body, so a JSON body is parsed only once."""
    for value in request.path_params.values():
        if isinstance(value, str) and unsafe_character(value) is not None:
            raise NotFound()  # a path with such a character names nothing
    for key, value in request.query_params.multi_items():
        reject_unsafe_strings(key)
        reject_unsafe_strings(value, key)
    if request.method not in _BODY_METHODS or "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()
    if not body or (b"\\u" not in body and b"\x00" not in body):
        return  # without an escape or a raw NUL, JSON text cannot produce either character
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the route's own parsing answers that
    reject_unsafe_strings(data)
