"""/metrics behind PATCHBAY_METRICS_TOKEN: open without it; with it, only the bearer token reads."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.app import create_app
from patchbay.runtime import build_runtime

TOKEN = "metrics-token-4b1d"


async def test_metrics_need_the_token_when_one_is_set(make_settings: Any) -> None:
    runtime = build_runtime(make_settings(metrics_token=TOKEN))
    transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            missing = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
            other_scheme = await client.get("/metrics", headers={"Authorization": f"Token {TOKEN}"})
            right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        await runtime.close()
    assert missing.status_code == 401
    assert missing.json() == {
        "type": "authentication_error",
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "attr": None,
    }
    assert missing.headers["www-authenticate"] == "Bearer"
    for refused in (wrong, other_scheme):
        assert refused.status_code == 401
        assert refused.json()["code"] == "authentication_failed"
        assert TOKEN not in refused.text
    assert right.status_code == 200
    assert "patchbay_requests_total" in right.text


async def test_metrics_are_open_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "patchbay_requests_total" in response.text
