"""`s3-compatible`: the user's endpoint passes the address guard (a loopback DNS name stands for the
store, the sandbox's S3 simulator answers on it), ListBuckets proves the key, PostHog's messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from patchbay.providers.s3_compatible.simulator import deny_listing
from patchbay.sandbox.server import SandboxServer, free_port
from patchbay.simkit.aws import add_access_key
from tests.support.dns_server import DNSTestServer
from tests.support.kinds import SENTINEL, KindClient, kind_client, refusal, zone  # noqa: F401

HOST = "objects.store.test"


@pytest.fixture
async def kc(make_settings: Any, zone: DNSTestServer, runtime: Any, sandbox: SandboxServer) -> AsyncIterator[KindClient]:  # noqa: F811
    async with kind_client(make_settings, zone, user_host_allowed_networks="127.0.0.0/8") as client:
        client.serve(HOST, "127.0.0.1")
        yield client


def endpoint(sandbox: SandboxServer) -> str:
    return f"http://{HOST}:{sandbox.port}/s3"


def good(sandbox: SandboxServer, key_id: str, **changes: Any) -> dict[str, Any]:
    config = {
        "name": "my-r2", "endpoint_url": endpoint(sandbox), "aws_access_key_id": key_id,
        "aws_secret_access_key": SENTINEL, **changes,
    }  # fmt: skip
    return {k: v for k, v in config.items() if v is not None}


async def test_a_key_is_proved_at_the_users_endpoint(kc: KindClient, sandbox: SandboxServer) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    response = await kc.create("s3-compatible", good(sandbox, key.access_key_id))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"name": "my-r2", "endpoint_url": endpoint(sandbox)}
    assert body["display_name"] == f"my-r2 (access key, {endpoint(sandbox)})"
    assert SENTINEL not in response.text
    assert sandbox.state.count_calls("s3", method="GET") == 1
    [row] = await kc.rows()
    assert await kc.secrets(row) == {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": SENTINEL}
    again = await kc.create("s3-compatible", good(sandbox, key.access_key_id))
    assert again.json() == refusal("An integration named 'my-r2' already exists")


async def test_a_key_that_may_not_list_buckets_is_still_proved(kc: KindClient, sandbox: SandboxServer) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    deny_listing(sandbox.state, key.access_key_id)
    response = await kc.create("s3-compatible", good(sandbox, key.access_key_id, region="auto"))
    assert response.status_code == 201, response.text
    assert response.json()["config"]["region"] == "auto"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"name": None}, "A name is required for S3-compatible integration"),
        ({"aws_access_key_id": ""}, "Access key ID is required for S3-compatible integration"),
        ({"aws_secret_access_key": None}, "Secret access key is required for S3-compatible integration"),
        ({"endpoint_url": None}, "Endpoint URL is required for S3-compatible integration"),
        ({"endpoint_url": "ftp://objects.store.test"}, "Invalid endpoint URL: URL must start with http:// or https://"),
        ({"endpoint_url": "https://"}, "Invalid endpoint URL: Missing host"),
        ({"endpoint_url": "https://a\\@objects.store.test"}, "Invalid endpoint URL: Invalid URL: ambiguous authority"),
        ({"endpoint_url": "https://u:p@objects.store.test"}, "Invalid endpoint URL: URL must not contain credentials"),
    ],
)
async def test_each_bad_field_has_posthogs_message(
    kc: KindClient, sandbox: SandboxServer, changes: dict[str, Any], detail: str
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    response = await kc.create("s3-compatible", {**good(sandbox, key.access_key_id), **changes})
    assert response.json() == refusal(detail)
    assert sandbox.state.count_calls("s3") == 0


@pytest.mark.parametrize("address", ["10.0.0.8", "172.16.5.5", "169.254.169.254", "100.100.1.1", "fc00::9"])
async def test_an_endpoint_resolving_to_a_private_address_is_refused(
    make_settings: Any, zone: DNSTestServer, runtime: Any, sandbox: SandboxServer, address: str  # noqa: F811
) -> None:
    async with kind_client(make_settings, zone) as client:
        client.serve("inside.store.test", address)
        key = add_access_key(sandbox.state, secret=SENTINEL)
        config = good(sandbox, key.access_key_id, endpoint_url="https://inside.store.test/")
        response = await client.create("s3-compatible", config)
        assert response.json() == refusal("Invalid endpoint URL: inside.store.test does not resolve to a public address")
        # The sandbox itself, on loopback, is refused too until the operator opens loopback.
        response = await client.create("s3-compatible", good(sandbox, key.access_key_id))
        assert response.status_code == 400
        assert sandbox.state.count_calls("s3") == 0


async def test_a_wrong_secret_is_refused(kc: KindClient, sandbox: SandboxServer) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    response = await kc.create("s3-compatible", good(sandbox, key.access_key_id, aws_secret_access_key="nope"))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("S3-compatible credentials are not valid: The request signature")
    unknown = await kc.create("s3-compatible", good(sandbox, "AKIAUNKNOWN"))
    assert unknown.json()["detail"] == (
        "S3-compatible credentials are not valid: The AWS Access Key Id you provided does not exist in our records."
    )


async def test_a_store_that_fails_or_is_down(kc: KindClient, sandbox: SandboxServer) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    sandbox.state.inject("s3", "500")
    failing = await kc.create("s3-compatible", good(sandbox, key.access_key_id))
    assert failing.status_code == 502 and failing.json()["code"] == "provider_unavailable"
    down = f"http://{HOST}:{free_port()}/"
    response = await kc.create("s3-compatible", good(sandbox, key.access_key_id, endpoint_url=down))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "provider_unreachable"
    assert await kc.count() == 0
