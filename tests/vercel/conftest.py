from __future__ import annotations

from typing import Any

import pytest

from patchbay.config import Settings
from patchbay.sandbox.server import SandboxServer
from tests.vercel.helpers import vercel_settings


@pytest.fixture
def settings(make_settings: Any, sandbox_server: SandboxServer) -> Settings:
    """Vercel's client id and secret set, its API and JWKS pointed at the sandbox."""
    return vercel_settings(make_settings, sandbox_server)
