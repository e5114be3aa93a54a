"""Reading a request body the way DRF's default parsers do: JSON, form-encoded fields and multipart
fields with files. Routes that accept more than JSON (PostHog's create takes a service-account key as
an uploaded file) read their body here instead of through FastAPI's JSON-only body parameter.

The body limit (kit/body_limit.py) has already capped the bytes before anything here runs; NULs and
lone surrogates are refused in every field name, value and JSON document (kit/validation.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from patchbay.kit.errors import APIError, InvalidRequest, ValidationError
from patchbay.kit.validation import reject_unsafe_strings, unsafe_character

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_FORM_FIELDS = 100
MAX_FORM_FILES = 10


class UnsupportedMediaType(APIError):
    status_code = 415
    error_type = "invalid_request"
    default_code = "unsupported_media_type"

    def __init__(self, media_type: str) -> None:
        super().__init__(f'Unsupported media type "{media_type}" in request.')


@dataclass
class RequestBody:
    """A parsed body. `data` is the JSON document, or the form's text fields (last value wins, as
    DRF's QueryDict answers a single field); `files` maps a file field's name to its bytes."""

    data: Any
    is_form: bool = False
    files: dict[str, bytes] = field(default_factory=dict)


def _media_type(request: Request) -> tuple[str | None, str]:
    raw = request.headers.get("content-type")
    if not raw:
        return None, ""
    # email.message's rule (Message.get_content_type), without building a Message per request.
    media_type = raw.split(";", 1)[0].strip().lower()
    return raw, media_type if media_type.count("/") == 1 else "text/plain"


async def read_body(request: Request) -> RequestBody:
    """The request's body. No body at all reads as an empty JSON object, as DRF's empty data does."""
    raw_type, media_type = _media_type(request)
    if media_type in FORM_TYPES:
        return await _read_form(request)
    body = await request.body()
    if not body:
        return RequestBody({})
    if raw_type is not None and not (media_type == "application/json" or media_type.endswith("+json")):
        raise UnsupportedMediaType(raw_type.split(";", 1)[0].strip())
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"JSON parse error - {exc.msg}", code="parse_error") from None
    except UnicodeDecodeError:
        raise InvalidRequest("JSON parse error - invalid UTF-8", code="parse_error") from None
    if b"\\u" in body or b"\x00" in body:
        # Only an escape or a raw NUL can put a NUL or a lone surrogate in parsed JSON.
        reject_unsafe_strings(data)
    return RequestBody(data)


async def _read_form(request: Request) -> RequestBody:
    try:
        form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    except Exception as exc:  # noqa: BLE001 - python-multipart's errors: a malformed body is a 400
        raise InvalidRequest(
            f"Multipart form parse error - {type(exc).__name__}", code="parse_error"
        ) from None
    data: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name, value in form.multi_items():
        reject_unsafe_strings(name)
        if isinstance(value, UploadFile):
            files[name] = await value.read()
            await value.close()
            continue
        error = unsafe_character(value)
        if error is not None:
            error.attr = name
            raise error
        data[name] = value
    return RequestBody(data, is_form=True, files=files)


def json_document(raw: bytes | str, attr: str) -> Any:
    """A JSON document sent inside a form (a field or an uploaded file), NULs refused; a 400 naming
    `attr` when it is not JSON (DRF's JSONField: "Value must be valid JSON.")."""
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError("Value must be valid JSON.", attr=attr) from None
    reject_unsafe_strings(value, attr)
    return value
