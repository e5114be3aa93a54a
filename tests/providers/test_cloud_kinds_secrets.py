"""No secret of the cloud and database kinds leaks: for each kind, a refused create and a successful
one carry a sentinel secret, and neither the answers, the listing nor any log line shows it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from patchbay.providers.azure_blob.simulator import add_account
from patchbay.providers.google_cloud.simulator import add_service_account
from patchbay.providers.snowflake.simulator import add_user
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit.aws import add_access_key
from tests.support.kinds import SENTINEL

Case = Callable[[SandboxServer, bool], tuple[str, dict[str, Any]]]


def aws(kind: str) -> Case:
    def case(sandbox: SandboxServer, right: bool) -> tuple[str, dict[str, Any]]:
        key = add_access_key(sandbox.state, secret=SENTINEL)
        secret = SENTINEL if right else SENTINEL + "-wrong"
        config = {"name": f"n-{right}", "aws_access_key_id": key.access_key_id, "aws_secret_access_key": secret}
        return kind, {**config, "user": "u"} if kind == "aws-redshift" else config

    return case


def google(kind: str) -> Case:
    def case(sandbox: SandboxServer, right: bool) -> tuple[str, dict[str, Any]]:
        key = add_service_account(sandbox.state)
        key["private_key_id"] = key["private_key_id"] if right else SENTINEL
        key["sentinel_note"] = SENTINEL  # an extra field of the key file is a secret too
        return kind, {"key_info": key}

    return case


def snowflake(sandbox: SandboxServer, right: bool) -> tuple[str, dict[str, Any]]:
    add_user(sandbox.state, "acct", "U", password=SENTINEL)
    return "snowflake", {"name": f"s-{right}", "account": "acct", "user": "U", "password": SENTINEL if right else SENTINEL + "x"}


CASES: dict[str, Case] = {
    "aws-s3": aws("aws-s3"),
    "aws-redshift": aws("aws-redshift"),
    "google-pubsub": google("google-pubsub"),
    "firebase": google("firebase"),
    "snowflake": snowflake,
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_no_sentinel_in_answers_or_logs(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = []
    for right in (False, True):
        kind, config = CASES[name](sandbox, right)
        response = await client.post(
            f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers
        )
        assert response.status_code == (201 if right else 400), response.text
        texts.append(response.text)
    texts.append((await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).text)
    assert all(SENTINEL not in text for text in texts)
    assert SENTINEL not in caplog.text


async def test_azure_connection_string_stays_secret(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The endpoint is on loopback, which the default guard refuses: the refusal must not echo the key.
    caplog.set_level(logging.DEBUG)
    account, key = add_account(sandbox.state)
    config = {"connection_string": f"AccountName={account};AccountKey={key};BlobEndpoint=http://127.0.0.1:{sandbox.port}/azure-blob/{account}"}
    response = await client.post(f"{tenant.base}/integrations/", json={"kind": "azure-blob", "config": config}, headers=tenant.headers)
    assert response.status_code == 400
    assert key not in response.text and key not in caplog.text
