"""Stopping the sandbox while a provider hangs: the hung request gets its answer, and uvicorn logs no
cancelled request as the app's error (the fault drills stop it with hung Slack calls in flight)."""

from __future__ import annotations

import logging
import threading
import time

import httpx

from patchbay.sandbox.server import SandboxServer


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_hung_request_is_answered_when_the_sandbox_stops() -> None:
    server = SandboxServer().start()
    server.state.timeout_seconds = 60.0
    server.state.inject("slack", "timeout", count=1)
    answers: list[int | str] = []

    def call() -> None:
        try:
            answers.append(
                httpx.get(f"{server.base_url}/slack/api/conversations.list", timeout=30).status_code
            )
        except httpx.HTTPError as exc:
            answers.append(type(exc).__name__)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 10
    while server.state.count_calls("slack", "conversations.list") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.state.count_calls("slack", "conversations.list") == 1  # it is hanging now
    errors = _Records()
    logging.getLogger("uvicorn.error").addHandler(errors)  # uvicorn's loggers do not propagate
    try:
        stopped = time.monotonic()
        server.stop()
        caller.join(timeout=10)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(errors)
    assert time.monotonic() - stopped < 5
    assert len(answers) == 1 and isinstance(answers[0], int), answers  # an answer, not a cut
    assert not [m for m in errors.messages if "Exception in ASGI application" in m], errors.messages
