"""The JSON response every route returns: orjson-rendered, no validation pass. Aware datetimes
render as DRF renders them (ISO 8601, UTC as `Z`, as kit.timefmt.iso writes them)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)
