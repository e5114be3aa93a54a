"""Health, readiness, metrics, schema, docs, request ids and structured logs (issue 2)."""

from __future__ import annotations

import io
import logging

import httpx
import orjson

from patchbay.operations.logging import JSONFormatter
from patchbay.providers.twilio import simulator as twilio
from tests.support.factory import Tenant


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_health")).json() == {"status": "ok"}
    ready = await client.get("/_ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_ready_is_503_when_the_database_is_unreachable(make_settings) -> None:
    from patchbay.app import create_app

    settings = make_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        response = await c.get("/_ready")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    await app.state.runtime.close()


async def test_metrics_count_requests_by_route_and_status(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    await client.get(f"{tenant.base}/integrations/")
    text = (await client.get("/metrics")).text
    assert 'patchbay_requests_total{method="GET",route="integrations_list",status="200"}' in text
    assert 'patchbay_requests_total{method="GET",route="integrations_list",status="401"}' in text
    assert "patchbay_request_duration_seconds_bucket" in text


async def test_openapi_schema_and_docs(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/schema/")).json()
    assert schema["openapi"].startswith("3.1")
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "integrations_list",
        "integrations_create",
        "integrations_retrieve",
        "integrations_destroy",
    } <= operations
    assert "environments_integrations_list" in operations
    env_list = schema["paths"]["/api/environments/{project_id}/integrations"]["get"]
    assert env_list["deprecated"] is True
    assert schema["components"]["securitySchemes"]["PersonalAPIKeyAuth"]["scheme"] == "bearer"
    docs = await client.get("/api/docs/")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_health", headers={"X-Request-ID": "abc-123"})).headers[
        "x-request-id"
    ] == "abc-123"
    generated = (await client.get("/_health")).headers["x-request-id"]
    assert len(generated) == 16


async def test_logs_are_json_with_request_ids_and_no_secrets(
    client: httpx.AsyncClient, tenant: Tenant, sandbox
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("patchbay")
    logger.addHandler(handler)
    try:
        secret = "SENTINEL-log-secret-77"
        sid = twilio.add_account(sandbox.state, auth_token=secret)
        await client.post(
            f"{tenant.base}/integrations/",
            json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": secret}},
            headers=tenant.headers,
        )
        sandbox.state.inject("twilio", "500")
        await client.post(
            f"{tenant.base}/integrations/",
            json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": secret}},
            headers=tenant.headers,
        )
        await client.get(f"{tenant.base}/integrations/", params={"personal_api_key": tenant.key})
        await client.get(
            f"{tenant.base}/integrations/", headers={"Authorization": "Bearer phx_SENTINEL_bad_key"}
        )
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    lines = [orjson.loads(line) for line in output.splitlines() if line.strip()]
    requests = [line for line in lines if line["msg"] == "request"]
    assert len(requests) >= 4
    assert all(line.get("request_id") for line in requests)
    assert {r["status"] for r in requests} >= {201, 502, 200, 401}
    assert all(0 <= r["duration_ms"] < 10_000 for r in requests), "durations are milliseconds of this request"
    for needle in (secret, tenant.key, "SENTINEL"):
        assert needle not in output


async def test_unexpected_error_is_an_envelope_and_logs_no_message(app, client: httpx.AsyncClient) -> None:
    secret = "-".join(["SENTINEL", "exception", "message"])

    async def explode() -> None:
        raise RuntimeError(secret)

    app.add_api_route("/_test/explode", explode)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("patchbay")
    logger.addHandler(handler)
    try:
        response = await client.get("/_test/explode")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    assert response.json() == {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}
    assert response.headers["x-request-id"]
    errors = [orjson.loads(line) for line in stream.getvalue().splitlines() if '"unhandled error"' in line]
    assert errors and errors[0]["exc_type"] == "RuntimeError" and "explode" in errors[0]["stack"]
    assert secret not in stream.getvalue()
