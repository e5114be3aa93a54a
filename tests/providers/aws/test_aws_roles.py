"""The role variants of `aws-s3` and `aws-redshift`: Patchbay's own identity assumes the user's role
at the STS simulator (trust policy and external ID checked there), then tries the temporary
credentials at the S3 or Redshift Data simulator (SigV4 and session token checked from the
specification). Success, each message, refusals, AWS failing or down, no secret anywhere."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from patchbay.providers.aws.data_api_simulator import deny
from patchbay.providers.aws.roles import NO_IDENTITY
from patchbay.providers.s3_compatible.simulator import deny_listing
from patchbay.sandbox.server import SandboxServer, free_port
from patchbay.simkit.aws import AccessKey, Role, add_access_key, add_role
from tests.providers.credential_kinds import app_with, create, stored
from tests.support.factory import Tenant
from tests.support.kinds import SENTINEL, refusal

EXTERNAL_ID = "patchbay-team-42"
WORKGROUP = "arn:aws:redshift-serverless:eu-west-1:210987654321:workgroup/abc"


@pytest.fixture
def identity(sandbox: SandboxServer) -> AccessKey:
    """Patchbay's own AWS identity; its secret is the sentinel."""
    return add_access_key(sandbox.state, secret=SENTINEL, account="999988887777", user="patchbay")


@pytest.fixture
def role(sandbox: SandboxServer, identity: AccessKey) -> Role:
    return add_role(sandbox.state, trusted=identity, external_id=EXTERNAL_ID)


@pytest.fixture
async def api(
    make_settings: Any, runtime: Any, identity: AccessKey
) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    async with app_with(
        make_settings,
        aws_role_access_key_id=identity.access_key_id,
        aws_role_secret_access_key=identity.secret_access_key,
    ) as pair:
        yield pair


def s3_config(role: Role, **changes: Any) -> dict[str, Any]:
    config = {"name": "exports", "aws_role_arn": role.arn, "external_id": EXTERNAL_ID, **changes}
    return {k: v for k, v in config.items() if v is not None}


async def test_an_s3_role_is_assumed_and_tried(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer, runtime: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    client, tenant = api
    caplog.set_level(logging.DEBUG)
    response = await create(client, tenant, "aws-s3", s3_config(role))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"name": "exports", "aws_role_arn": role.arn, "external_id": EXTERNAL_ID}
    assert body["display_name"] == f"exports (AWS role '{role.arn}')"
    assert sandbox.state.count_calls("aws-sts", method="POST") == 1
    assert sandbox.state.count_calls("s3", method="GET") == 1
    row, secrets = await stored(runtime, body["id"])
    assert secrets == {} and row.integration_id == "exports"
    assert SENTINEL not in response.text and SENTINEL not in caplog.text
    # The name is the id and is never overwritten, as for access keys.
    again = await create(client, tenant, "aws-s3", s3_config(role))
    assert again.json() == refusal("An integration named 'exports' already exists")


async def test_a_role_that_may_not_list_buckets_still_proves_itself(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer
) -> None:
    deny_listing(sandbox.state, role.arn)
    client, tenant = api
    response = await create(client, tenant, "aws-s3", s3_config(role))
    assert response.status_code == 201, response.text
    assert sandbox.state.count_calls("s3", method="GET") == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"external_id": None},
        {"external_id": "someone-else"},
        {"aws_role_arn": "arn:aws:iam::210987654321:role/other"},
    ],
    ids=["no-external-id", "wrong-external-id", "unknown-role"],
)
async def test_a_role_that_cannot_be_assumed_is_refused_in_aws_words(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, identity: AccessKey, sandbox: SandboxServer,
    changes: dict[str, Any],
) -> None:  # fmt: skip
    client, tenant = api
    config = s3_config(role, **changes)
    response = await create(client, tenant, "aws-s3", config)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith(
        f"Could not assume the AWS role '{config['aws_role_arn']}': User: {identity.arn} "
    )
    assert detail.endswith(
        "allows this server to assume it" + (" with this external ID." if "external_id" in config else ".")
    )
    assert sandbox.state.count_calls("s3") == 0
    assert SENTINEL not in response.text


async def test_a_role_that_does_not_trust_this_server_is_refused(
    api: tuple[httpx.AsyncClient, Tenant], sandbox: SandboxServer
) -> None:
    stranger = add_access_key(sandbox.state, user="someone-else")
    elsewhere = add_role(sandbox.state, trusted=stranger, name="theirs")
    client, tenant = api
    response = await create(client, tenant, "aws-s3", {"name": "x", "aws_role_arn": elsewhere.arn})
    assert response.status_code == 400
    assert "is not authorized to perform: sts:AssumeRole" in response.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "detail", "attr"),
    [
        ({"name": None}, "A name is required for AWS integration", None),
        ({"aws_role_arn": ""}, "A valid role ARN is required for AWS integration", None),
        ({"aws_role_arn": "arn:aws:s3:::bucket"}, "AWS role ARN is not valid", None),
        (
            {"external_id": "x"},
            "External ID must be a string of 2 to 1224 characters without spaces",
            "external_id",
        ),
        (
            {"external_id": "has space"},
            "External ID must be a string of 2 to 1224 characters without spaces",
            "external_id",
        ),
        (
            {"external_id": 12},
            "External ID must be a string of 2 to 1224 characters without spaces",
            "external_id",
        ),
    ],
)
async def test_each_bad_field_of_a_role_has_its_message(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer,
    changes: dict[str, Any], detail: str, attr: str | None,
) -> None:  # fmt: skip
    client, tenant = api
    response = await create(client, tenant, "aws-s3", s3_config(role, **changes))
    assert response.json() == refusal(detail, attr)
    assert sandbox.state.count_calls("aws-sts") == 0


async def test_without_an_identity_of_its_own_a_role_is_refused_in_words_that_say_why(
    client: httpx.AsyncClient, tenant: Any, role: Role, sandbox: SandboxServer
) -> None:
    response = await create(client, tenant, "aws-s3", s3_config(role))
    assert response.json() == refusal(NO_IDENTITY)
    assert sandbox.state.count_calls("aws-sts") == 0


@pytest.mark.parametrize(
    ("simulator", "mode", "status", "code"),
    [
        ("aws-sts", "500", 502, "provider_unavailable"),
        ("aws-sts", "429", 429, "provider_rate_limited"),
        ("s3", "500", 502, "provider_unavailable"),
        ("s3", "429", 429, "provider_rate_limited"),
    ],
)
async def test_aws_failing_is_not_a_credential_problem(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer,
    simulator: str, mode: str, status: int, code: str,
) -> None:  # fmt: skip
    sandbox.state.inject(simulator, mode)
    client, tenant = api
    response = await create(client, tenant, "aws-s3", s3_config(role))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize("url", ["PATCHBAY_AWS_S3_STS_URL", "PATCHBAY_AWS_S3_S3_URL"])
async def test_aws_down_is_a_503(
    make_settings: Any, runtime: Any, identity: AccessKey, role: Role, url: str
) -> None:
    async with app_with(
        make_settings,
        aws_role_access_key_id=identity.access_key_id,
        aws_role_secret_access_key=identity.secret_access_key,
        kind_overrides={url: f"http://127.0.0.1:{free_port()}"},
    ) as (client, tenant):
        response = await create(client, tenant, "aws-s3", s3_config(role))
    assert response.status_code == 503, response.text
    assert (
        response.json()["detail"]
        == "AWS could not be reached while we checked the credentials. Please try again."
    )


def redshift_config(role: Role, **changes: Any) -> dict[str, Any]:
    config = {
        "name": "warehouse", "aws_role_arn": role.arn, "external_id": EXTERNAL_ID, "user": "loader",
        "workgroup_arn": WORKGROUP, **changes,
    }  # fmt: skip
    return {k: v for k, v in config.items() if v is not None}


async def test_a_redshift_role_is_tried_on_the_data_api(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer
) -> None:
    client, tenant = api
    response = await create(client, tenant, "aws-redshift", redshift_config(role))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {
        "name": "warehouse", "aws_role_arn": role.arn, "external_id": EXTERNAL_ID, "user": "loader",
        "workgroup_arn": WORKGROUP,
    }  # fmt: skip
    assert body["display_name"] == f"warehouse (AWS role '{role.arn}')"
    assert sandbox.state.count_calls("redshift-data", method="POST") == 1
    # The workgroup's region signs the Data API call.
    (call,) = [c for c in sandbox.state.calls if c.provider == "redshift-data"]
    assert "/eu-west-1/redshift-data/" in call.headers.get("authorization", "")


async def test_a_redshift_role_without_data_api_rights_is_refused(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer
) -> None:
    deny(sandbox.state, role.arn)
    client, tenant = api
    response = await create(client, tenant, "aws-redshift", redshift_config(role, region="us-west-2"))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "The AWS role may not use the Redshift Data API: User: arn:aws:sts::210987654321:assumed-role/"
    )


@pytest.mark.parametrize(
    ("changes", "detail", "attr"),
    [
        ({"user": None}, "Username is required for AWS integration", None),
        ({"region": "mars"}, "Region must be an AWS region such as us-east-1", "region"),
        ({"groups": []}, "Groups must be a list of at least one string", None),
    ],
)
async def test_each_bad_field_of_a_redshift_role_has_its_message(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer,
    changes: dict[str, Any], detail: str, attr: str | None,
) -> None:  # fmt: skip
    client, tenant = api
    response = await create(client, tenant, "aws-redshift", redshift_config(role, **changes))
    assert response.json() == refusal(detail, attr)
    assert sandbox.state.count_calls("aws-sts") == 0


@pytest.mark.parametrize(("mode", "status"), [("500", 502), ("429", 429)])
async def test_the_data_api_failing_is_not_a_credential_problem(
    api: tuple[httpx.AsyncClient, Tenant], role: Role, sandbox: SandboxServer, mode: str, status: int
) -> None:
    sandbox.state.inject("redshift-data", mode)
    client, tenant = api
    response = await create(client, tenant, "aws-redshift", redshift_config(role))
    assert response.status_code == status, response.text
