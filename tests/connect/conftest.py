"""Connect tests run with one allowed redirect origin (the product's page, APP)."""

from __future__ import annotations

from typing import Any

import pytest

from patchbay.config import Settings

APP = "https://app.example"


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings(allowed_redirect_origins=APP)  # type: ignore[no-any-return]
