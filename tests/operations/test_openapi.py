"""/api/schema/ documents itself (issue 17 item 13): every operation and model described, each
kind's `config` as a schema of its own, examples, and the operations routes."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.integration.kinds import config_models
from patchbay.providers.catalog import OAUTH_PROVIDERS


async def schema_of(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/schema/")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_every_operation_and_model_has_a_description(client: httpx.AsyncClient) -> None:
    schema = await schema_of(client)
    assert "Authorization: Bearer phx_" in schema["info"]["description"]
    operations = [(method, path, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 40
    undocumented = [
        f"{method.upper()} {path}" for method, path, op in operations if not op.get("description", "").strip()
    ]
    assert undocumented == []
    models = schema["components"]["schemas"]
    assert [name for name, model in models.items() if not model.get("description", "").strip()] == []


async def test_each_kind_config_is_a_schema_of_its_own(client: httpx.AsyncClient) -> None:
    schema = await schema_of(client)
    models = schema["components"]["schemas"]
    twilio = models["TwilioConfig"]
    assert (
        twilio["required"] == ["account_sid", "auth_token"]
        and twilio["properties"]["auth_token"]["writeOnly"]
    )
    assert set(models["DatabricksConfig"]["required"]) == {"server_hostname", "client_id", "client_secret"}
    assert {"email", "name"} <= set(models["EmailConfig"]["required"])
    assert models["OAuthCodeConfig"]["required"] == ["code", "state"]
    config = models["IntegrationCreate"]["properties"]["config"]
    refs = config["x-config-schemas"]
    assert refs["twilio"] == "#/components/schemas/TwilioConfig"
    assert refs["databricks"] == "#/components/schemas/DatabricksConfig"
    assert all(refs[kind] == "#/components/schemas/OAuthCodeConfig" for kind in OAUTH_PROVIDERS)
    assert set(refs) == set(config_models())
    assert "- TwilioConfig: twilio" in config["description"]
    # On the wire `config` stays PostHog's free-form object.
    assert config["type"] == "object" and "oneOf" not in config and "$ref" not in config


async def test_examples(client: httpx.AsyncClient) -> None:
    schema = await schema_of(client)
    for path in ("/api/projects/{project_id}/integrations", "/api/environments/{project_id}/integrations"):
        examples = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"]
        assert examples["twilio"]["value"]["kind"] == "twilio"
        assert set(examples["oauth"]["value"]["config"]) == {"code", "state"}
    databricks = schema["components"]["schemas"]["DatabricksConfig"]["properties"]["server_hostname"]
    assert databricks["examples"] == ["dbc-a1b2c3d4-e5f6.cloud.databricks.com"]
    integration = schema["components"]["schemas"]["IntegrationOut"]
    assert set(integration["examples"][0]) == set(integration["properties"])


async def test_operations_routes_are_documented(client: httpx.AsyncClient) -> None:
    schema = await schema_of(client)
    paths = schema["paths"]
    assert paths["/_health"]["get"]["security"] == [] and "401" not in paths["/_health"]["get"]["responses"]
    assert "503" in paths["/_ready"]["get"]["responses"]
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert not any(path.startswith("/api/docs") for path in paths)
