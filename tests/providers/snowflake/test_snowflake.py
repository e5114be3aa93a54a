"""`snowflake` against its simulator: a password (login request) and a key pair (SQL API, key-pair
JWT), PostHog's messages, names never overwritten, the account host through the address guard when
the API base names `{account}`, Snowflake failing and down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.providers.snowflake.simulator import add_user
from patchbay.sandbox.server import SandboxServer, free_port
from tests.support.dns_server import DNSTestServer
from tests.support.kinds import SENTINEL, kind_client, refusal, zone  # noqa: F401


async def create(client: httpx.AsyncClient, tenant: Any, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": "snowflake", "config": config}, headers=tenant.headers
    )


def password_config(**changes: Any) -> dict[str, Any]:
    config = {"name": "prod-snowflake", "account": "myorg-myaccount", "user": "EXPORTER", "password": SENTINEL, **changes}
    return {k: v for k, v in config.items() if v is not None}


async def test_a_password_is_proved(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any) -> None:
    add_user(sandbox.state, "myorg-myaccount", "EXPORTER", password=SENTINEL)
    response = await create(client, tenant, password_config())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {
        "name": "prod-snowflake", "account": "myorg-myaccount", "user": "EXPORTER", "authentication_type": "password"
    }  # fmt: skip
    assert body["display_name"] == "prod-snowflake (account: myorg-myaccount, password auth)"
    assert SENTINEL not in response.text
    again = await create(client, tenant, password_config())
    assert again.json() == refusal("An integration named 'prod-snowflake' already exists")
    wrong = await create(client, tenant, password_config(name="other", password="nope"))
    assert wrong.json() == refusal("Snowflake refused the credentials: Incorrect username or password was specified.")


async def test_a_key_pair_is_proved(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer) -> None:
    pem = add_user(sandbox.state, "myorg-myaccount", "KEYUSER")
    assert pem is not None
    config = {"name": "kp", "account": "myorg-myaccount", "user": "keyuser", "authentication_type": "keypair", "private_key": pem}
    response = await create(client, tenant, config)
    assert response.status_code == 201, response.text
    assert response.json()["display_name"] == "kp (account: myorg-myaccount, keypair auth)"
    assert "PRIVATE KEY" not in response.text
    other = add_user(sandbox.state, "myorg-myaccount", "SOMEONE")
    wrong = await create(client, tenant, {**config, "name": "kp2", "private_key": other})
    assert wrong.json() == refusal("Snowflake refused the credentials: JWT token is invalid.")
    garbage = await create(client, tenant, {**config, "name": "kp3", "private_key": "not a key"})
    assert garbage.json() == refusal("The private key could not be read (a PEM key, with its passphrase if it has one)")


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"name": None}, "Name, account, and user must be provided"),
        ({"user": ""}, "Name, account, and user must be provided"),
        ({"account": 5}, "Name, account, user, and authentication type must be strings"),
        ({"password": 5}, "Password, private key, and private key passphrase must be strings"),
        ({"account": "https://evil.example"}, "Snowflake integration is not valid: invalid account identifier 'https://evil.example'"),
        ({"password": None}, "Password is required for password authentication"),
        ({"authentication_type": "keypair"}, "Private key is required for key-pair authentication"),
        ({"authentication_type": "oauth"}, "Invalid authentication type: oauth"),
    ],
)
async def test_each_bad_field_has_posthogs_message(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, changes: dict[str, Any], detail: str
) -> None:
    config = {**password_config(), **changes}
    response = await create(client, tenant, {k: v for k, v in config.items() if v is not None})
    assert response.json() == refusal(detail)
    assert sandbox.state.count_calls("snowflake") == 0


@pytest.mark.parametrize(("mode", "status"), [("500", 502), ("429", 429)])
async def test_snowflake_failing(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, mode: str, status: int) -> None:
    add_user(sandbox.state, "myorg-myaccount", "EXPORTER", password=SENTINEL)
    sandbox.state.inject("snowflake", mode)
    assert (await create(client, tenant, password_config())).status_code == status


async def test_the_account_host_passes_the_address_guard(
    make_settings: Any, zone: DNSTestServer, runtime: Any, sandbox: SandboxServer  # noqa: F811
) -> None:
    template = f"http://{{account}}.snowflake.test:{sandbox.port}/snowflake"
    overrides = {"kind_overrides": {"PATCHBAY_SNOWFLAKE_API_URL": template}}
    add_user(sandbox.state, "myorg-myaccount", "EXPORTER", password=SENTINEL)
    async with kind_client(make_settings, zone, user_host_allowed_networks="127.0.0.0/8", **overrides) as kc:
        kc.serve("myorg-myaccount.snowflake.test", "127.0.0.1")
        kc.serve("inside.snowflake.test", "10.4.4.4")
        response = await kc.create("snowflake", password_config())
        assert response.status_code == 201, response.text
        refused = await kc.create("snowflake", password_config(name="n2", account="inside"))
        assert refused.json() == refusal("Snowflake integration is not valid: the account host 'inside.snowflake.test' is not allowed")
        down_template = f"http://{{account}}.snowflake.test:{free_port()}/snowflake"
    async with kind_client(
        make_settings, zone, user_host_allowed_networks="127.0.0.0/8",
        kind_overrides={"PATCHBAY_SNOWFLAKE_API_URL": down_template},
    ) as kc:  # fmt: skip
        down = await kc.create("snowflake", password_config(name="n3"))
        assert down.status_code == 503 and down.json()["code"] == "provider_unreachable"
