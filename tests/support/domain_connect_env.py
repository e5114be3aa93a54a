"""Fixtures for Domain Connect, email sender and proxy record tests: a loopback DNS server, a DNS
provider speaking Domain Connect, moto's SES, and a signing key whose public half the DNS serves.

Import them into a conftest with `from tests.support.domain_connect_env import *`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from patchbay.app import create_app
from patchbay.config import Settings
from patchbay.domain_connect import template_store
from patchbay.domain_connect.signing import public_key_host, public_key_txt_records
from patchbay.runtime import Runtime, build_runtime
from tests.support.dns_server import DNSTestServer
from tests.support.domain_connect_provider import DomainConnectProvider
from tests.support.factory import Tenant

SITE_URL = "http://testserver"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signing_key_pem(signing_key: rsa.RSAPrivateKey) -> str:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem.replace("\n", "\\n")  # as an environment variable carries it


@pytest.fixture(scope="session")
def dns_server_session() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def dc_provider_session(dns_server_session: DNSTestServer) -> Iterator[DomainConnectProvider]:
    templates = template_store.templates(Settings(_env_file=None, site_url=SITE_URL))  # type: ignore[call-arg]
    provider = DomainConnectProvider(dns_server_session, templates, timeout_seconds=2.5)
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def moto_session() -> Iterator[str]:
    saved = {name: os.environ.get(name) for name in AWS_ENV}
    os.environ.update(AWS_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def moto_ses(moto_session: str) -> Iterator[str]:
    httpx.post(f"{moto_session}/moto-api/reset")
    yield moto_session


@pytest.fixture
def dns_zone(dns_server_session: DNSTestServer, signing_key: rsa.RSAPrivateKey) -> Iterator[DNSTestServer]:
    """The DNS server, emptied, serving the public key of `signing_key` where the templates say."""
    dns_server_session.clear()
    settings = Settings(_env_file=None, site_url=SITE_URL)  # type: ignore[call-arg]
    dns_server_session.replace(public_key_host(settings), "TXT", public_key_txt_records(signing_key))
    yield dns_server_session
    dns_server_session.clear()


@pytest.fixture
def dc_provider(
    dc_provider_session: DomainConnectProvider, dns_zone: DNSTestServer
) -> Iterator[DomainConnectProvider]:
    dc_provider_session.zones.clear()
    dc_provider_session.settings_faults.clear()
    dc_provider_session.applied.clear()
    dc_provider_session.rejections.clear()
    yield dc_provider_session


def domain_connect_overrides(
    dns_zone: DNSTestServer, dc_provider: DomainConnectProvider, moto_ses: str, signing_key_pem: str
) -> dict[str, Any]:
    return {
        "dns_nameservers": dns_zone.address,
        "domain_connect_private_key": signing_key_pem,
        "domain_connect_providers": f"{dc_provider.endpoint}=Cloudflare,domainconnect.vercel.com=Vercel",
        "domain_connect_allow_http": True,
        "ses_endpoint_url": moto_ses,
        "ses_region": "us-east-1",
        "email_provider": "ses",
    }


@pytest.fixture
def settings(
    make_settings: Any,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    moto_ses: str,
    signing_key_pem: str,
) -> Settings:
    return make_settings(**domain_connect_overrides(dns_zone, dc_provider, moto_ses, signing_key_pem))  # type: ignore[no-any-return]


@pytest.fixture
async def client_with(
    make_settings: Any,
    runtime: Runtime,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    moto_ses: str,
    signing_key_pem: str,
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """A client of an app built with other settings (same database as `client`)."""
    opened: list[tuple[httpx.AsyncClient, Runtime]] = []

    async def build(**overrides: Any) -> httpx.AsyncClient:
        values = {**domain_connect_overrides(dns_zone, dc_provider, moto_ses, signing_key_pem), **overrides}
        settings = make_settings(**values)
        other = build_runtime(settings)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, other)), base_url=SITE_URL
        )
        opened.append((client, other))
        return client

    yield build
    for client, other in opened:
        await client.aclose()
        await other.close()


async def create_sender(
    client: httpx.AsyncClient, tenant: Tenant, email: str, **config: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{tenant.base}/integrations/",
        headers=tenant.headers,
        json={"kind": "email", "config": {"email": email, "name": "Sender", **config}},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def ses_identity_exists(endpoint: str, domain: str) -> bool:
    client = boto3.client("sesv2", region_name="us-east-1", endpoint_url=endpoint)
    try:
        client.get_email_identity(EmailIdentity=domain)
    except client.exceptions.NotFoundException:
        return False
    return True


__all__ = [
    "client_with",
    "dc_provider",
    "dc_provider_session",
    "dns_server_session",
    "dns_zone",
    "moto_session",
    "moto_ses",
    "settings",
    "signing_key",
    "signing_key_pem",
]
