"""Shared fixtures: every API test runs on SQLite and, when PATCHBAY_TEST_POSTGRES_URL is set, on
PostgreSQL too, each in a database of its own that is dropped afterwards."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from patchbay.app import create_app
from patchbay.config import Settings
from patchbay.migrations import upgrade
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant
from tests.support.pg import create_database, drop_database, truncate_all

# The page tests' one Chromium (tests/support/browser.py); under scripts/mutation, fastest tests first.
pytest_plugins = ["tests.support.browser", "tests.support.mutation_order"]

POSTGRES_URL = os.environ.get("PATCHBAY_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PATCHBAY_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
TEST_KEY = Fernet.generate_key().decode()
SITE_URL = "http://testserver"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def migrated_sqlite_template() -> Path:
    """An SQLite file with every migration applied, built once per version of the migrations and
    copied by each test session: the migrations take a second or more, and a mutation run starts a
    session per mutant (scripts/mutation)."""
    versions = sorted((Path(__file__).parents[1] / "src/patchbay/migrations/versions").glob("*.py"))
    digest = hashlib.sha256(b"".join(v.name.encode() + v.read_bytes() for v in versions)).hexdigest()[:16]
    template = Path(tempfile.gettempdir()) / f"patchbay-test-template-{digest}.db"
    if not template.exists():
        building = template.with_suffix(f".{os.getpid()}.tmp")
        upgrade(f"sqlite:///{building}")
        os.replace(building, template)  # atomic: parallel sessions never copy half a file
    return template


@pytest.fixture(scope="session")
def database_url(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="patchbay-test-") as tmp:
            path = Path(tmp) / "test.db"
            shutil.copyfile(migrated_sqlite_template(), path)
            path.chmod(0o600)
            yield f"sqlite:///{path}"
        return
    assert POSTGRES_URL
    url = create_database(POSTGRES_URL, f"patchbay_test_{secrets.token_hex(6)}")
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(POSTGRES_URL, url)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer()
    server.state.timeout_seconds = 3.0
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    sandbox_server.state.reset()
    yield sandbox_server
    sandbox_server.state.reset()


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    prefix = f"patchbay-test-{secrets.token_hex(6)}:"
    yield prefix
    if REDIS_URL:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=prefix + "*", count=500):
            client.delete(key)
        client.close()


@pytest.fixture
def make_settings(database_url: str, sandbox_server: SandboxServer, redis_prefix: str) -> Any:
    """Settings for a test; keyword arguments override (redis=True uses the test Redis)."""

    def build(*, redis: bool = False, **overrides: Any) -> Settings:
        if redis and not REDIS_URL:
            pytest.fail("PATCHBAY_TEST_REDIS_URL is not set: this test needs Redis")
        kind_overrides = {**sandbox_server.env(), **overrides.pop("kind_overrides", {})}
        values: dict[str, Any] = {
            "database_url": database_url,
            "site_url": SITE_URL,
            "encryption_keys": TEST_KEY,
            "rate_limit": "off",
            "rate_limit_anonymous": "off",  # tests/auth/test_anonymous_limit.py turns it on
            "redis_url": REDIS_URL if redis else None,
            "redis_key_prefix": f"{redis_prefix}{secrets.token_hex(4)}:",
            "http_timeout": 2.0,
            "log_level": "INFO",
            "kind_overrides": kind_overrides,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()  # type: ignore[no-any-return]


@pytest.fixture
async def runtime(settings: Settings, database_url: str) -> AsyncIterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    await rt.close()
    await truncate_all(database_url)


@pytest.fixture
def app(runtime: Runtime) -> Any:
    return create_app(runtime.settings, runtime)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SITE_URL) as c:
        yield c


@pytest.fixture
def factory(runtime: Runtime) -> Factory:
    return Factory(runtime)


@pytest.fixture
async def tenant(factory: Factory) -> Tenant:
    """An owner with an organization, a project and an all-scopes key."""
    return await factory.tenant()
