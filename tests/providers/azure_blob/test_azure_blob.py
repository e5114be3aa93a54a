"""`azure-blob`: a connection string whose BlobEndpoint is the sandbox's Azure simulator (reached
through a loopback DNS name the operator opened), Shared Key checked from the specification;
PostHog's messages, the address guard, a wrong key, Azure failing and down."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from patchbay.providers.azure_blob.simulator import add_account
from patchbay.sandbox.server import SandboxServer, free_port
from tests.support.dns_server import DNSTestServer
from tests.support.kinds import KindClient, kind_client, refusal, zone  # noqa: F401

HOST = "blob.azure.test"


@pytest.fixture
async def kc(make_settings: Any, zone: DNSTestServer, runtime: Any, sandbox: SandboxServer) -> AsyncIterator[KindClient]:  # noqa: F811
    async with kind_client(make_settings, zone, user_host_allowed_networks="127.0.0.0/8") as client:
        client.serve(HOST, "127.0.0.1")
        yield client


def connection(sandbox: SandboxServer, account: str, key: str, port: int | None = None) -> str:
    endpoint = f"http://{HOST}:{port or sandbox.port}/azure-blob/{account}"
    return f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint={endpoint};"


async def test_a_connection_string_is_proved(kc: KindClient, sandbox: SandboxServer) -> None:
    account, key = add_account(sandbox.state)
    response = await kc.create("azure-blob", {"connection_string": connection(sandbox, account, key)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {} and body["display_name"] == f"ID: {account}"
    assert key not in response.text
    [row] = await kc.rows()
    assert (await kc.secrets(row))["connection_string"] == connection(sandbox, account, key)
    assert sandbox.state.count_calls("azure-blob", account, "GET") == 1


@pytest.mark.parametrize(
    ("connection_string", "detail"),
    [
        (None, "Connection string must be provided"),
        ("", "Connection string must be provided"),
        (["x"], "Connection string must be a string"),
        ("AccountName=a;garbage", "Malformed connection string"),
        (" AccountName=a;AccountKey=k", "Malformed connection string"),
        ("AccountKey=k;EndpointSuffix=core.windows.net", "Could not extract AccountName from connection string. "
         "Ensure it contains 'AccountName=<your-account-name>;'"),
        ("UseDevelopmentStorage=true;AccountName=a", "Emulator account not supported"),
        ("DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=k", "'DefaultEndpointsProtocol' must be 'http' or 'https'"),
        ("AccountName=a;AccountKey=k;BlobEndpoint=ftp://blob.azure.test/", "Invalid endpoint found in connection string: "
         "URL must start with http:// or https://"),
        ("AccountName=a;AccountKey=k;BlobEndpoint=https://inside.azure.test/", "Invalid endpoint found in connection "
         "string: inside.azure.test is not allowed"),
        ("AccountName=a;AccountKey=k;BlobEndpoint=http://public.azure.test/", "Endpoints in the connection string must use https"),
        ("AccountName=a;BlobEndpoint=http://blob.azure.test/", "The connection string must contain an AccountKey"),
    ],
)
async def test_each_bad_connection_string_has_its_message(
    kc: KindClient, sandbox: SandboxServer, connection_string: Any, detail: str
) -> None:
    kc.serve("inside.azure.test", "10.2.3.4")
    kc.serve("public.azure.test", "20.60.1.1")
    config = {} if connection_string is None else {"connection_string": connection_string}
    response = await kc.create("azure-blob", config)
    assert response.json() == refusal(detail)
    assert sandbox.state.count_calls("azure-blob") == 0


@pytest.mark.parametrize("address", ["127.0.0.1", "192.168.3.3", "169.254.169.254", "::1"])
async def test_an_account_host_resolving_inside_is_refused(
    make_settings: Any, zone: DNSTestServer, runtime: Any, sandbox: SandboxServer, address: str  # noqa: F811
) -> None:
    async with kind_client(make_settings, zone) as client:  # no network opened
        client.serve("acct.blob.core.windows.test", address)
        config = {"connection_string": "AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.test"}
        response = await client.create("azure-blob", config)
        assert response.json() == refusal(
            "Invalid endpoint found in connection string: acct.blob.core.windows.test is not allowed"
        )


async def test_a_wrong_key_is_refused(kc: KindClient, sandbox: SandboxServer) -> None:
    account, _ = add_account(sandbox.state)
    other = base64.b64encode(b"not the account key").decode()
    response = await kc.create("azure-blob", {"connection_string": connection(sandbox, account, other)})
    assert response.json() == refusal("Azure Storage refused the connection string (AuthenticationFailed)")
    unknown = await kc.create("azure-blob", {"connection_string": connection(sandbox, "nobody", other)})
    assert unknown.json() == refusal("Azure Storage refused the connection string (ResourceNotFound)")
    assert await kc.count() == 0


async def test_azure_failing_or_down(kc: KindClient, sandbox: SandboxServer) -> None:
    account, key = add_account(sandbox.state)
    sandbox.state.inject("azure-blob", "500")
    failing = await kc.create("azure-blob", {"connection_string": connection(sandbox, account, key)})
    assert failing.status_code == 502 and failing.json()["code"] == "provider_unavailable"
    sandbox.state.inject("azure-blob", "429")
    busy = await kc.create("azure-blob", {"connection_string": connection(sandbox, account, key)})
    assert busy.status_code == 429
    down = await kc.create("azure-blob", {"connection_string": connection(sandbox, account, key, port=free_port())})
    assert down.status_code == 503 and down.json()["code"] == "provider_unreachable"
