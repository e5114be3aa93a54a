"""The JSON response every route returns: orjson-rendered, no validation pass. Aware datetimes
render as DRF renders them (ISO 8601, UTC as `Z`, as kit.timefmt.iso writes them)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


def _default(value: Any) -> Any:
    # orjson renders uuid.UUID itself but not its subclasses, and asyncpg returns one
    # (kit.db.FixedQuery rows): render them the same way.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)
