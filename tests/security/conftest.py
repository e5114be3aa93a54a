"""Settings for the security tests: Vercel wired to the sandbox, email senders on maildev (no SES),
and DNS answered by the loopback server. Prints how many routes the permission matrix checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from patchbay.config import Settings
from patchbay.sandbox.server import SandboxServer
from tests.support.dns_server import DNSTestServer
from tests.vercel.helpers import vercel_settings

# Filled by test_permission_matrix: backend -> number of (method, path) routes checked.
ROUTES_CHECKED: dict[str, int] = {}


@pytest.fixture(scope="session")
def matrix_dns() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@pytest.fixture
def settings(make_settings: Any, sandbox_server: SandboxServer, matrix_dns: DNSTestServer) -> Settings:
    return vercel_settings(
        make_settings, sandbox_server, email_provider="maildev", dns_nameservers=matrix_dns.address
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for backend, count in sorted(ROUTES_CHECKED.items()):
        terminalreporter.write_line(f"permission matrix: {count} routes checked on {backend}")
