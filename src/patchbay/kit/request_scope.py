"""Work that must happen when a request ends, whatever happened in it (closing its sessions).

RequestMiddleware opens the list for every HTTP request and runs it after the response; a dependency
registers with `at_request_end`. Cheaper than a `yield` dependency, which FastAPI runs through an
exit stack on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("patchbay.request")

CLEANUPS = "patchbay.cleanups"
# The request's raw path (still percent-encoded) before RequestMiddleware strips a trailing slash:
# the proxy judges and forwards the path exactly as the caller sent it.
ORIGINAL_RAW_PATH = "patchbay.original_raw_path"

Cleanup = Callable[[], Awaitable[Any]]


def open_cleanups(scope: MutableMapping[str, Any]) -> list[Cleanup]:
    cleanups: list[Cleanup] = []
    scope[CLEANUPS] = cleanups
    return cleanups


def at_request_end(scope: MutableMapping[str, Any], cleanup: Cleanup) -> None:
    try:
        cleanups: list[Cleanup] = scope[CLEANUPS]
    except KeyError:
        # Without the middleware nothing would ever run it (a session would leak its connection).
        raise RuntimeError("request-end work needs RequestMiddleware around the app") from None
    cleanups.append(cleanup)


async def run_cleanups(cleanups: list[Cleanup]) -> None:
    for cleanup in reversed(cleanups):
        try:
            await cleanup()
        except Exception as exc:  # noqa: BLE001 - one failure must not skip the rest
            log.error("request clean-up failed", exc_info=exc)
