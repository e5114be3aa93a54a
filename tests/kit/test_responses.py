"""JSONResponse renders what repositories hand over: asyncpg's UUID subclass and aware datetimes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from asyncpg.pgproto.pgproto import UUID as DriverUUID

from patchbay.kit.responses import JSONResponse


def test_driver_uuids_render_like_uuids() -> None:
    value = uuid.uuid4()
    driver_value = DriverUUID(str(value))
    assert (
        JSONResponse({"a": driver_value}).body
        == JSONResponse({"a": value}).body
        == f'{{"a":"{value}"}}'.encode()
    )


def test_datetimes_render_as_drf_does() -> None:
    moment = datetime(2026, 11, 26, 6, 8, 35, 123456, tzinfo=UTC)
    assert JSONResponse({"t": moment}).body == b'{"t":"2026-11-26T06:08:35.123456Z"}'


def test_what_json_cannot_hold_is_still_an_error() -> None:
    with pytest.raises(TypeError):
        JSONResponse({"x": object()})
