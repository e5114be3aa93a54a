"""The Google service-account kinds against the token endpoint's simulator (the JWT grant's RS256
signature, audience and scope checked): each kind's success, PostHog's messages, a key Google
refuses, and Google failing or down."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from patchbay.providers.google_cloud.credentials import KEY_INCOMPLETE
from patchbay.providers.google_cloud.simulator import add_service_account
from patchbay.providers.google_cloud.token import INVALID_TOKEN_URI
from patchbay.sandbox.server import SandboxServer, free_port
from tests.support.kinds import refusal

KEY_KINDS = ["google-pubsub", "google-cloud-storage"]


async def create(client: httpx.AsyncClient, tenant: Any, kind: str, config: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers)


async def secrets_of(runtime: Any, pk: int) -> dict[str, Any]:
    from patchbay.models import Integration

    async with runtime.db.session() as session:
        row = await session.get(Integration, pk)
        assert row is not None
        return runtime.keyring.decrypt_json(row.sensitive_config)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", KEY_KINDS)
@pytest.mark.parametrize("as_text", [True, False])
async def test_a_key_file_is_exchanged_and_kept(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any, kind: str, as_text: bool
) -> None:
    key = add_service_account(sandbox.state)
    response = await create(client, tenant, kind, {"key": json.dumps(key) if as_text else key})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["display_name"] == key["client_email"]
    assert set(body["config"]) == {"expires_in", "refreshed_at"} and body["config"]["expires_in"] == 3599
    assert key["private_key_id"] not in response.text and "PRIVATE KEY" not in response.text
    stored = await secrets_of(runtime, body["id"])
    assert stored["key_info"] == key and stored["access_token"].startswith("ya29")
    assert sandbox.state.count_calls("google-cloud", "/token", "POST") == 1


@pytest.mark.parametrize("kind", KEY_KINDS)
async def test_key_file_messages(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, kind: str) -> None:
    key = add_service_account(sandbox.state)
    assert (await create(client, tenant, kind, {})).json() == refusal("Key file not provided")
    assert (await create(client, tenant, kind, {"key": "{not json"})).json() == refusal("The key file is not valid JSON")
    edited = {**key, "token_uri": "https://attacker.example/token"}
    assert (await create(client, tenant, kind, {"key": edited})).json() == refusal(INVALID_TOKEN_URI)
    missing = {k: v for k, v in key.items() if k != "private_key"}
    refused = refusal("Failed to authenticate with provided service account key")
    assert (await create(client, tenant, kind, {"key": missing})).json() == refused
    assert sandbox.state.count_calls("google-cloud") == 0


async def test_a_key_google_does_not_know_is_refused(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer) -> None:
    key = add_service_account(sandbox.state)
    other = add_service_account(sandbox.state)
    forged = {**key, "private_key": other["private_key"]}  # signed with someone else's key
    response = await create(client, tenant, "google-pubsub", {"key": forged})
    assert response.json() == refusal("Failed to authenticate with provided service account key")
    assert sandbox.state.count_calls("google-cloud", "/token") == 1


@pytest.mark.parametrize(("mode", "status"), [("500", 502), ("503", 502), ("429", 429)])
async def test_google_failing_is_not_a_key_problem(
    client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, mode: str, status: int
) -> None:
    key = add_service_account(sandbox.state)
    sandbox.state.inject("google-cloud", mode)
    response = await create(client, tenant, "google-cloud-storage", {"key": key})
    assert response.status_code == status, response.text


async def test_google_down_is_a_503(make_settings: Any, sandbox: SandboxServer, runtime: Any) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime
    from tests.support.factory import Factory

    down = f"http://127.0.0.1:{free_port()}/token"
    settings = make_settings(kind_overrides={"PATCHBAY_FIREBASE_TOKEN_URL": down})
    rt = build_runtime(settings)
    try:
        tenant = await Factory(rt).tenant()
        transport = httpx.ASGITransport(app=create_app(settings, rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await create(client, tenant, "firebase", {"key_info": add_service_account(sandbox.state)})
        assert response.status_code == 503
        assert response.json()["code"] == "provider_unreachable"
    finally:
        await rt.close()


async def test_firebase(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any) -> None:
    key = add_service_account(sandbox.state, project_id="my-app-123")
    response = await create(client, tenant, "firebase", {"key_info": key})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"]["project_id"] == "my-app-123" and body["display_name"] == "ID: my-app-123"
    assert (await secrets_of(runtime, body["id"]))["key_info"]["private_key"] == key["private_key"]
    missing = refusal("Firebase service account key must be provided")
    assert (await create(client, tenant, "firebase", {})).json() == missing
    unknown = {**key, "client_email": "who@nowhere.iam.gserviceaccount.com"}
    assert (await create(client, tenant, "firebase", {"key_info": unknown})).json() == refusal(
        "Failed to authenticate with provided Firebase service account key"
    )
    no_project = add_service_account(sandbox.state)
    no_project["project_id"] = ""
    assert (await create(client, tenant, "firebase", {"key_info": no_project})).json() == refusal(
        "Service account key must contain a project_id"
    )


async def test_service_account_fields(client: httpx.AsyncClient, tenant: Any, sandbox: SandboxServer, runtime: Any) -> None:
    key = add_service_account(sandbox.state, project_id="analytics-prod")
    config = {
        "service_account_email": key["client_email"], "project_id": "analytics-prod",
        "private_key": key["private_key"], "private_key_id": key["private_key_id"], "token_uri": key["token_uri"],
    }  # fmt: skip
    response = await create(client, tenant, "google-cloud-service-account", config)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"project_id": "analytics-prod", "service_account_email": key["client_email"]}
    assert body["display_name"] == f"ID: {key['client_email']}-{tenant.project.id}-key-file"
    assert "PRIVATE KEY" not in response.text
    assert (await secrets_of(runtime, body["id"]))["private_key"] == key["private_key"]

    def without(name: str) -> dict[str, Any]:
        return {k: v for k, v in config.items() if k != name}

    sa = "google-cloud-service-account"
    assert (await create(client, tenant, sa, without("project_id"))).json() == refusal(
        "Service account email and project ID must be provided"
    )
    # Part of a key is neither variant (none of it is impersonation: test_impersonation.py).
    assert (await create(client, tenant, sa, without("private_key"))).json() == refusal(KEY_INCOMPLETE)
    assert (await create(client, tenant, sa, {**config, "private_key_id": "other"})).json() == refusal(
        "Failed to authenticate with provided service account key"
    )
