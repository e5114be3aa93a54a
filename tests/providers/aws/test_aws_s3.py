"""`aws-s3`: an access key proved against the STS simulator (SigV4 checked from the specification),
PostHog's messages, the name that is never overwritten, and STS failing or down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.sandbox.server import SandboxServer, free_port
from patchbay.simkit.aws import add_access_key
from tests.support.kinds import SENTINEL, refusal


def good(key_id: str, **changes: Any) -> dict[str, Any]:
    config = {"name": "prod-aws", "aws_access_key_id": key_id, "aws_secret_access_key": SENTINEL, **changes}
    return {k: v for k, v in config.items() if v is not None}


async def create(client: httpx.AsyncClient, tenant: Any, kind: str, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers
    )


async def test_an_access_key_is_proved_and_named(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL, account="210987654321")
    response = await create(client, tenant, "aws-s3", good(key.access_key_id))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"name": "prod-aws", "aws_account_id": "210987654321"}
    assert body["display_name"] == "prod-aws (AWS account 210987654321)"
    assert SENTINEL not in response.text and key.access_key_id not in response.text
    assert sandbox.state.count_calls("aws-sts", method="POST") == 1
    # PostHog creates rather than upserts named AWS credentials: the same name is refused.
    again = await create(client, tenant, "aws-s3", good(key.access_key_id))
    assert again.status_code == 400
    assert again.json() == refusal("An integration named 'prod-aws' already exists")
    listed = (await client.get(f"{tenant.base}/integrations/?kind=aws-s3", headers=tenant.headers)).json()
    assert listed["count"] == 1


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"name": None}, "A name is required for AWS integration"),
        ({"name": ""}, "A name is required for AWS integration"),
        ({"aws_access_key_id": None}, "Access key ID is required for AWS integration"),
        ({"aws_secret_access_key": 12}, "Secret access key is required for AWS integration"),
        ({"aws_role_arn": "arn:aws:s3:::bucket"}, "AWS role ARN is not valid"),
        ({"aws_role_arn": ""}, "A valid role ARN is required for AWS integration"),
    ],
)
async def test_each_bad_field_has_posthogs_message(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, changes: dict[str, Any], detail: str
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    response = await create(client, tenant, "aws-s3", {**good(key.access_key_id), **changes})
    assert response.status_code == 400
    body = response.json()
    assert body == refusal(detail), body
    assert sandbox.state.count_calls("aws-sts") == 0


async def test_a_role_is_refused_in_words_that_say_why(client: httpx.AsyncClient, tenant: Any) -> None:
    config = {"name": "role", "aws_role_arn": "arn:aws:iam::123456789012:role/posthog"}
    response = await create(client, tenant, "aws-s3", config)
    assert response.status_code == 400
    assert "Connect with an access key instead." in response.json()["detail"]


@pytest.mark.parametrize(
    ("secret", "known", "detail"),
    [
        (
            "wrong-secret",
            True,
            "AWS credentials are not valid: The request signature we calculated does not match",
        ),
        (
            SENTINEL,
            False,
            "AWS credentials are not valid: The security token included in the request is invalid.",
        ),
    ],
)
async def test_bad_credentials_are_refused(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, secret: str, known: bool, detail: str
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    key_id = key.access_key_id if known else "AKIAUNKNOWN000000000"
    response = await create(client, tenant, "aws-s3", good(key_id, aws_secret_access_key=secret))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert response.json()["attr"] is None
    assert SENTINEL not in response.text


@pytest.mark.parametrize(
    ("mode", "status", "code"), [("500", 502, "provider_unavailable"), ("429", 429, "provider_rate_limited")]
)
async def test_sts_failing_is_not_a_credential_problem(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, mode: str, status: int, code: str
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL)
    sandbox.state.inject("aws-sts", mode)
    response = await create(client, tenant, "aws-s3", good(key.access_key_id))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_sts_down_is_a_503(make_settings: Any, sandbox: SandboxServer, runtime: Any) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime
    from tests.support.factory import Factory

    down = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(kind_overrides={"PATCHBAY_AWS_S3_STS_URL": down})
    rt = build_runtime(settings)
    try:
        tenant = await Factory(rt).tenant()
        transport = httpx.ASGITransport(app=create_app(settings, rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await create(client, tenant, "aws-s3", good("AKIAANY0000000000000"))
        assert response.status_code == 503, response.text
        assert (
            response.json()["detail"]
            == "AWS could not be reached while we checked the credentials. Please try again."
        )
    finally:
        await rt.close()
