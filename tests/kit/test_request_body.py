"""kit.request_body's media type: the rule of `email.message.Message.get_content_type`, which the
parsing followed before, applied to the header's text without building a Message per request."""

from __future__ import annotations

import email.message

import pytest
from starlette.requests import Request

from patchbay.kit.request_body import _media_type

HEADERS = [
    "application/json",
    "Application/JSON; charset=utf-8",
    " application/json ;x=1",
    "multipart/form-data; boundary=abc",
    "application/x-www-form-urlencoded",
    "application/json;",
    ";application/json",
    "text",  # no slash: text/plain, as email reads it
    "a/b/c",
    'x/y; a="b;c"',
]


def _request(content_type: str) -> Request:
    return Request({"type": "http", "headers": [(b"content-type", content_type.encode())]})


@pytest.mark.parametrize("header", HEADERS)
def test_the_media_type_follows_emails_rule(header: str) -> None:
    message = email.message.Message()
    message["content-type"] = header
    assert _media_type(_request(header)) == (header, message.get_content_type())


def test_no_content_type_is_no_media_type() -> None:
    assert _media_type(Request({"type": "http", "headers": []})) == (None, "")
