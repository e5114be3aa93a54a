"""Structured JSON logs, one object per line. Request lines carry the request id; no secrets, no
query strings (a personal_api_key may ride there)."""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("patchbay_request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    # The timestamp's text up to the second, kept while the second lasts: one access line per
    # request would otherwise build a datetime and its ISO text each time.
    _second: tuple[int, str] = (-1, "")

    def timestamp(self, created: float) -> str:
        """`created` as ISO 8601 in UTC to the millisecond, as datetime.isoformat writes it."""
        whole = int(created)
        micro = round((created - whole) * 1_000_000)
        if micro == 1_000_000:
            whole, micro = whole + 1, 0
        second, text = self._second
        if second != whole:
            text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (whole, text)
        return f"{text}.{micro // 1000:03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            data["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # Frames and type only: an exception's message may quote data (and so a secret).
            data["exc_type"] = record.exc_info[0].__name__
            data["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return orjson.dumps(data, default=str).decode()


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    root = logging.getLogger("patchbay")
    root.setLevel(level.upper())
    if not any(getattr(h, "_patchbay", False) for h in root.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JSONFormatter())
        handler._patchbay = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.propagate = False
    # The JSON lines carry none of these, and collecting them (a stack walk for the caller, thread
    # and process names) is most of a record's cost: the Python docs' "Optimization" settings.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # httpx logs whole request URLs at INFO, and some providers put tokens in URL paths.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
