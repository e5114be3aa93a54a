"""`aws-redshift`: the access-key variant (STS simulator) with Redshift's own settings, the direct
variant against a real PostgreSQL-protocol server (the machine's PostgreSQL stands in for a
cluster), the address guard on its host, and PostHog's "Missing required inputs"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.sandbox.server import SandboxServer
from patchbay.simkit.aws import add_access_key
from tests.support.dns_server import DNSTestServer
from tests.support.kinds import SENTINEL, kind_client, refusal, zone  # noqa: F401

WORKGROUP = "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/abc"


def keyed(key_id: str, **changes: Any) -> dict[str, Any]:
    config = {
        "name": "warehouse", "aws_access_key_id": key_id, "aws_secret_access_key": SENTINEL, "user": "loader",
        **changes,
    }  # fmt: skip
    return {k: v for k, v in config.items() if v is not None}


async def create(client: httpx.AsyncClient, tenant: Any, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "aws-redshift", "config": config},
        headers=tenant.headers,
    )


async def test_an_access_key_with_redshift_settings(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL, account="111122223333")
    config = keyed(key.access_key_id, groups=["etl"], auto_create=True, workgroup_arn=WORKGROUP)
    response = await create(client, tenant, config)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {
        "name": "warehouse", "aws_account_id": "111122223333", "user": "loader", "groups": ["etl"],
        "auto_create": True, "workgroup_arn": WORKGROUP,
    }  # fmt: skip
    assert body["display_name"] == "warehouse (AWS account 111122223333)"
    assert SENTINEL not in response.text


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"user": None}, "Username is required for AWS integration"),
        ({"name": None}, "A name is required for AWS integration"),
        ({"groups": []}, "Groups must be a list of at least one string"),
        ({"groups": ["a", 1]}, "Groups must be a list of at least one string"),
        ({"auto_create": "yes"}, "Auto create can only be True or False"),
        (
            {"workgroup_arn": "arn:aws:iam::123456789012:role/x"},
            "Workgroup ARN must be a valid Redshift Serverless workgroup ARN",
        ),
        (
            {"aws_secret_access_key": "wrong"},
            "AWS credentials are not valid: The request signature we calculated",
        ),
    ],
)
async def test_each_bad_input_has_posthogs_message(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, changes: dict[str, Any], detail: str
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    response = await create(client, tenant, keyed(key.access_key_id, **changes))
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(detail)
    assert response.json()["attr"] is None


@pytest.mark.parametrize("config", [{}, {"name": "w"}, {"groups": ["etl"]}])
async def test_no_variant_is_missing_required_inputs(
    client: httpx.AsyncClient, tenant: Any, config: dict[str, Any]
) -> None:
    response = await create(client, tenant, config)
    assert response.json() == refusal("Missing required inputs")


async def test_a_cluster_reached_directly(make_settings: Any, zone: DNSTestServer, runtime: Any) -> None:  # noqa: F811
    async with kind_client(make_settings, zone, user_host_allowed_networks="127.0.0.0/8") as kc:
        kc.serve("cluster.redshift.test", "127.0.0.1")
        kc.serve("inside.redshift.test", "10.9.8.7")
        config = {
            "host": "cluster.redshift.test",
            "port": 5432,
            "user": "postgres",
            "password": SENTINEL,
            "ssl_mode": "disable",
        }
        response = await kc.create("aws-redshift", config)
        assert response.status_code == 201, response.text
        project = kc.tenant.project.id
        assert (
            response.json()["display_name"]
            == f"{project}-cluster.redshift.test-5432-postgres (postgres@cluster.redshift.test)"
        )
        [row] = await kc.rows()
        assert await kc.secrets(row) == {"password": SENTINEL}

        refused = await kc.create("aws-redshift", {**config, "host": "inside.redshift.test"})
        assert refused.json() == refusal("Provided host 'inside.redshift.test' is not valid")
        bad_user = await kc.create("aws-redshift", {**config, "user": "nobody_patchbay"})
        assert bad_user.json() == refusal("Redshift refused the user 'nobody_patchbay' or its password")
        no_port = await kc.create("aws-redshift", {**config, "port": None})
        assert no_port.json() == refusal("Port must be an integer")
