"""The `postgresql` kind against a real PostgreSQL (the machine's, on 127.0.0.1:5432, reached through
a name the loopback DNS server resolves): PostHog's messages for each bad field, the address guard,
TLS rules, a refused role, a missing database and a server that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from patchbay.sandbox.server import free_port
from tests.support.dns_server import DNSTestServer
from tests.support.kinds import SENTINEL, KindClient, kind_client, refusal, zone  # noqa: F401

HOST = "db.postgres.test"
PUBLIC_HOST = "db.public-postgres.test"


@pytest.fixture
async def pg(make_settings: Any, zone: DNSTestServer, runtime: Any) -> AsyncIterator[KindClient]:  # noqa: F811
    async with kind_client(make_settings, zone, user_host_allowed_networks="127.0.0.0/8") as kc:
        kc.serve(HOST, "127.0.0.1")
        kc.serve(PUBLIC_HOST, "52.1.2.3")
        yield kc


def good(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "host": HOST,
        "port": 5432,
        "user": "postgres",
        "password": SENTINEL,
        "ssl_mode": "disable",
    }
    config.update(changes)
    return {k: v for k, v in config.items() if v is not None}


async def test_a_reachable_server_is_connected(pg: KindClient) -> None:
    response = await pg.create("postgresql", good())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {
        "host": HOST, "port": 5432, "user": "postgres", "ssl_mode": "disable", "ssl_root_cert": None
    }  # fmt: skip
    project = pg.tenant.project.id
    assert body["display_name"] == f"ID: {project}-{HOST}-5432-postgres"
    assert SENTINEL not in response.text
    [row] = await pg.rows()
    assert row.integration_id == f"{project}-{HOST}-5432-postgres"
    assert await pg.secrets(row) == {"password": SENTINEL}
    # The same server and user again: the same row (PostHog's upsert).
    again = await pg.create("postgresql", good(password=SENTINEL + "2"))
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    [row] = await pg.rows()
    assert await pg.secrets(row) == {"password": SENTINEL + "2"}


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"host": None}, "Host is required for postgresql integration"),
        ({"host": ""}, "Host is required for postgresql integration"),
        ({"port": None}, "Port must be an integer"),
        ({"port": "fifty"}, "Port must be an integer"),
        ({"port": 70000}, "A valid port is required for an postgresql integration"),
        ({"port": -1}, "A valid port is required for an postgresql integration"),
        ({"user": None}, "A username is required for postgresql integration"),
        ({"user": 7}, "A username is required for postgresql integration"),
        ({"password": None}, "A password is required for postgresql integration"),
        ({"ssl_mode": "allow"}, "SSL mode must be one of: require, verify-ca, verify-full"),
        ({"ssl_mode": "verify-ca"}, "SSL root certificate must be provided when verifying server certificates"),
        ({"ssl_mode": "verify-full", "ssl_root_cert": ["x"]}, "SSL root certificate must be a string"),
        ({"host": "no-such-host.postgres.test"}, "Provided host 'no-such-host.postgres.test' is not valid"),
    ],
)
async def test_each_bad_field_has_posthogs_message(pg: KindClient, changes: dict[str, Any], detail: str) -> None:
    config = {**good(), **changes}
    response = await pg.create("postgresql", {k: v for k, v in config.items() if v is not None})
    assert response.status_code == 400, response.text
    assert response.json() == refusal(detail)
    assert await pg.count() == 0


async def test_plain_text_is_refused_towards_a_public_address(pg: KindClient) -> None:
    response = await pg.create("postgresql", good(host=PUBLIC_HOST))
    assert response.json() == refusal("SSL mode must be one of: require, verify-ca, verify-full")


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.1.5", "100.64.0.1", "169.254.169.254", "fd00::5"])
async def test_a_host_resolving_to_a_private_address_is_refused(
    make_settings: Any, zone: DNSTestServer, runtime: Any, address: str  # noqa: F811
) -> None:
    async with kind_client(make_settings, zone) as kc:
        kc.serve("inside.postgres.test", address)
        response = await kc.create("postgresql", good(host="inside.postgres.test", ssl_mode="require"))
        assert response.status_code == 400
        assert response.json() == refusal("Provided host 'inside.postgres.test' is not valid")
        # Loopback too, unless the operator opened it.
        response = await kc.create("postgresql", good(host="127.0.0.1", ssl_mode="require"))
        assert response.json() == refusal("Provided host '127.0.0.1' is not valid")
        assert await kc.count() == 0


async def test_a_server_without_tls_is_refused_when_tls_is_required(pg: KindClient) -> None:
    response = await pg.create("postgresql", good(ssl_mode=None))  # PostHog's default: require
    assert response.status_code == 400
    assert response.json() == refusal(f"PostgreSQL at {HOST}:5432 does not accept SSL connections (ssl_mode 'require')")


async def test_an_unknown_role_is_bad_credentials(pg: KindClient) -> None:
    response = await pg.create("postgresql", good(user="nobody_patchbay"))
    assert response.status_code == 400
    assert response.json() == refusal("PostgreSQL refused the user 'nobody_patchbay' or its password")
    assert SENTINEL not in response.text and await pg.count() == 0


async def test_a_missing_database_is_named(pg: KindClient) -> None:
    response = await pg.create("postgresql", good(database="no_such_db_patchbay"))
    assert response.json() == refusal(f"Database 'no_such_db_patchbay' does not exist on PostgreSQL at {HOST}")


async def test_a_server_that_is_down_is_a_503(pg: KindClient) -> None:
    port = free_port()
    response = await pg.create("postgresql", good(port=port))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "provider_unreachable"
    assert response.json()["detail"] == (
        f"Could not connect to PostgreSQL at {HOST}:{port}. Check the host and port, then try again."
    )
    assert await pg.count() == 0
