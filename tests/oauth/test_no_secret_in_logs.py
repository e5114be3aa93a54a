"""Tokens never reach the logs, even where a provider wants one in a URL (HubSpot's token-info)."""

from __future__ import annotations

import logging

import httpx
import pytest

from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Tenant


async def test_tokens_not_logged(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Patchbay quiets httpx to WARNING; an operator who turns it up must still see no token.
    caplog.set_level(logging.DEBUG, logger="httpx")
    pk = await connect(client, tenant, "hubspot")
    secrets = secrets_of(runtime, await row(runtime, pk))
    text = caplog.text
    assert secrets["access_token"] not in text
    assert secrets["refresh_token"] not in text
    assert "access-tokens/[redacted]" in text  # the token-info request was logged, redacted
