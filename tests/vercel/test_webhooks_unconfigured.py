"""POST /api/vercel/v1/webhooks/ on a server with no Vercel client secret: nothing can be verified,
so every webhook is refused with 401 — unsigned, signed with an empty key, or signed with a secret
the server does not have — and nothing is removed."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import orjson
import pytest

from patchbay.app import create_app
from patchbay.models import OrganizationIntegration
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import build_runtime
from tests.support.factory import Factory
from tests.vercel.helpers import org_integration, rows

URL = "/api/vercel/v1/webhooks/"


def signature(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()


@pytest.mark.parametrize("unset", ["", None])
async def test_webhooks_are_refused_without_a_client_secret(
    make_settings: Any, runtime: Any, unset: str | None
) -> None:
    overrides = {"PATCHBAY_VERCEL_CLIENT_SECRET": ""} if unset == "" else {}
    settings = make_settings(kind_overrides=overrides)
    if unset is None:  # not configured at all: drop the sandbox's value instead of blanking it
        settings.kind_overrides.pop("PATCHBAY_VERCEL_CLIENT_SECRET", None)
    assert settings.kind_setting("vercel", "CLIENT_SECRET") is None
    app_runtime = build_runtime(settings)
    try:
        tenant = await Factory(app_runtime).tenant()
        installed = await org_integration(app_runtime, tenant.organization)
        event = {
            "type": "integration-configuration.removed",
            "payload": {"installationId": installed.integration_id},
        }
        raw = orjson.dumps(event)
        transport = httpx.ASGITransport(app=create_app(app_runtime.settings, app_runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for headers in (
                {},
                {"x-vercel-signature": ""},
                {"x-vercel-signature": signature("", raw)},
                {"x-vercel-signature": signature(sim.CLIENT_SECRET, raw)},
            ):
                response = await client.post(
                    URL, content=raw, headers={"Content-Type": "application/json", **headers}
                )
                assert response.status_code == 401, response.text
                assert response.json() == {
                    "type": "authentication_error",
                    "code": "authentication_failed",
                    "detail": "Invalid signature",
                    "attr": None,
                }
        assert [r.id for r in await rows(app_runtime, OrganizationIntegration)] == [installed.id]
    finally:
        await app_runtime.close()
