"""Console tests: loopback webhook receivers allowed (the webhooks page sends to them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from patchbay.config import Settings
from tests.support.webhook_receiver import Receiver


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings(webhook_allow_private=True, webhook_retry_schedule="0,0,0", webhook_timeout=3.0)  # type: ignore[no-any-return]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
