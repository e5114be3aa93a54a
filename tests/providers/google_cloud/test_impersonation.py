"""`google-cloud-service-account` without a key: Patchbay's own service account (its key in
PATCHBAY_GOOGLE_IMPERSONATION_KEY) gets a token at the token simulator, then asks the IAM Credentials
simulator to act as the user's account, which answers only when the user granted that. One
organization only may connect an account this way; key-file rows may share the email."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from patchbay.providers.google_cloud.credentials import CLAIMED, KEY_INCOMPLETE
from patchbay.providers.google_cloud.impersonation import NO_IDENTITY, NOT_FOUND, OWN_KEY_BROKEN, REFUSED
from patchbay.providers.google_cloud.simulator import add_service_account, allow_impersonation
from patchbay.sandbox.server import SandboxServer, free_port
from tests.providers.credential_kinds import OUTAGES, app_with, create, stored
from tests.support.factory import Factory, Tenant
from tests.support.kinds import SENTINEL, refusal

KIND = "google-cloud-service-account"
OWN = "patchbay@operator-project.iam.gserviceaccount.com"
THEIRS = "exporter@customer-project.iam.gserviceaccount.com"


@pytest.fixture
def own_key(sandbox: SandboxServer) -> dict[str, Any]:
    key = add_service_account(sandbox.state, email=OWN, project_id="operator-project")
    key["sentinel_note"] = SENTINEL  # any field of Patchbay's own key file is a secret
    return key


@pytest.fixture
def theirs(sandbox: SandboxServer) -> dict[str, Any]:
    key = add_service_account(sandbox.state, email=THEIRS, project_id="customer-project")
    allow_impersonation(sandbox.state, OWN, THEIRS)
    return key


@pytest.fixture
async def api(
    make_settings: Any, runtime: Any, own_key: dict[str, Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    async with app_with(make_settings, google_impersonation_key=json.dumps(own_key)) as pair:
        yield pair


def impersonated(email: str = THEIRS) -> dict[str, Any]:
    return {"service_account_email": email, "project_id": "customer-project"}


async def test_an_account_that_granted_patchbay_is_impersonated(
    api: tuple[httpx.AsyncClient, Tenant], theirs: dict[str, Any], sandbox: SandboxServer, runtime: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    client, tenant = api
    caplog.set_level(logging.DEBUG)
    response = await create(client, tenant, KIND, impersonated())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"project_id": "customer-project", "service_account_email": THEIRS}
    assert body["display_name"] == f"ID: {THEIRS}"
    row, secrets = await stored(runtime, body["id"])
    assert row.integration_id == THEIRS and secrets == {}
    assert sandbox.state.count_calls("google-cloud", "/token") == 1
    assert sandbox.state.count_calls("google-cloud", f"/serviceAccounts/{THEIRS}:generateAccessToken") == 1
    for text in (response.text, caplog.text):
        assert SENTINEL not in text and "PRIVATE KEY" not in text


@pytest.mark.parametrize(
    ("email", "message"), [(THEIRS, REFUSED), ("nobody@customer-project.iam.gserviceaccount.com", NOT_FOUND)]
)
async def test_an_account_patchbay_may_not_act_as_is_refused(
    api: tuple[httpx.AsyncClient, Tenant], sandbox: SandboxServer, email: str, message: str
) -> None:
    add_service_account(sandbox.state, email=THEIRS)  # exists, but granted nothing
    client, tenant = api
    response = await create(client, tenant, KIND, impersonated(email))
    assert response.json() == refusal(message.format(email=email, own=OWN), "service_account_email")


async def test_one_organization_only_may_impersonate_an_account(
    api: tuple[httpx.AsyncClient, Tenant], theirs: dict[str, Any], runtime: Any
) -> None:
    client, tenant = api
    assert (await create(client, tenant, KIND, impersonated())).status_code == 201
    factory = Factory(runtime)
    # Another project of the same organization may.
    sibling = Tenant(tenant.user, tenant.organization, await factory.project(tenant.organization), tenant.key,
                     tenant.headers)  # fmt: skip
    assert (await create(client, sibling, KIND, impersonated())).status_code == 201
    # Another organization may not, and nothing of the first one's is said.
    other = await factory.tenant()
    refused = await create(client, other, KIND, impersonated())
    assert refused.json() == refusal(CLAIMED.format(integration_id=THEIRS), "service_account_email")
    assert str(tenant.organization.id) not in refused.text
    # With its key the same account may be connected in any organization.
    key_file = {
        **impersonated(),
        "private_key": theirs["private_key"],
        "private_key_id": theirs["private_key_id"],
        "token_uri": theirs["token_uri"],
    }
    made = await create(client, other, KIND, key_file)
    assert made.status_code == 201, made.text


async def test_without_an_identity_of_its_own_impersonation_is_refused_in_words_that_say_why(
    client: httpx.AsyncClient, tenant: Tenant, theirs: dict[str, Any], sandbox: SandboxServer
) -> None:
    response = await create(client, tenant, KIND, impersonated())
    assert response.json() == refusal(NO_IDENTITY)
    assert sandbox.state.count_calls("google-cloud") == 0


@pytest.mark.parametrize(
    "fields",
    [{"private_key": "x"}, {"private_key_id": "abc", "token_uri": "https://oauth2.googleapis.com/token"}],
)
async def test_part_of_a_key_is_neither_variant(
    api: tuple[httpx.AsyncClient, Tenant],
    theirs: dict[str, Any],
    sandbox: SandboxServer,
    fields: dict[str, Any],
) -> None:
    client, tenant = api
    response = await create(client, tenant, KIND, {**impersonated(), **fields})
    assert response.json() == refusal(KEY_INCOMPLETE)
    assert sandbox.state.count_calls("google-cloud") == 0


@pytest.mark.parametrize("broken", ["not json", json.dumps({"type": "service_account"})])
async def test_an_unusable_own_key_is_the_operators_problem(
    make_settings: Any, runtime: Any, broken: str
) -> None:
    async with app_with(make_settings, google_impersonation_key=broken) as (client, tenant):
        response = await create(client, tenant, KIND, impersonated())
    assert response.json() == refusal(OWN_KEY_BROKEN)


async def test_an_own_key_google_refuses_is_the_operators_problem(
    api: tuple[httpx.AsyncClient, Tenant], theirs: dict[str, Any], sandbox: SandboxServer
) -> None:
    sandbox.state.inject("google-cloud", "401", path_contains="/token")
    client, tenant = api
    response = await create(client, tenant, KIND, impersonated())
    assert response.json() == refusal(OWN_KEY_BROKEN)


@pytest.mark.parametrize(("mode", "status", "code"), OUTAGES)
async def test_the_iam_credentials_api_failing_is_not_a_credential_problem(
    api: tuple[httpx.AsyncClient, Tenant], theirs: dict[str, Any], sandbox: SandboxServer,
    mode: str, status: int, code: str,
) -> None:  # fmt: skip
    sandbox.state.inject("google-cloud", mode, path_contains="generateAccessToken")
    client, tenant = api
    response = await create(client, tenant, KIND, impersonated())
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_the_iam_credentials_api_down_is_a_503(
    make_settings: Any, runtime: Any, own_key: dict[str, Any], theirs: dict[str, Any]
) -> None:
    down = {"PATCHBAY_GOOGLE_CLOUD_SERVICE_ACCOUNT_IAM_CREDENTIALS_URL": f"http://127.0.0.1:{free_port()}"}
    async with app_with(make_settings, google_impersonation_key=json.dumps(own_key), kind_overrides=down) as (
        client,
        tenant,
    ):
        response = await create(client, tenant, KIND, impersonated())
    assert response.status_code == 503, response.text
    assert (
        response.json()["detail"]
        == "Google could not be reached while we checked the credentials. Please try again."
    )
