from __future__ import annotations

from typing import Any

import pytest

from patchbay.config import Settings


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    """Loopback webhook endpoints allowed: health events are read back from the outbox."""
    return make_settings(webhook_allow_private=True)  # type: ignore[no-any-return]
