"""POST …/integrations/ takes what DRF's parsers take: JSON, form-encoded fields and multipart (with a
`key` file whose JSON becomes the config, as PostHog's Google Cloud kinds read it). Exercised with
the Twilio kind against its simulator; limits and NUL refusal hold for every encoding."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import row, secrets_of
from tests.support.factory import Tenant

TOKEN = "twilio-token-SENTINEL"


def url(tenant: Tenant) -> str:
    return f"{tenant.base}/integrations/"


async def test_form_encoded_body(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    sid = twilio_sim.add_account(sandbox.state, auth_token=TOKEN)
    config = json.dumps({"account_sid": sid, "auth_token": TOKEN})
    response = await client.post(url(tenant), data={"kind": "twilio", "config": config}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json()["config"] == {"account_sid": sid}
    assert TOKEN not in response.text


async def test_multipart_fields_and_key_file(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Any, sandbox: SandboxServer
) -> None:
    sid = twilio_sim.add_account(sandbox.state, auth_token=TOKEN)
    fields = await client.post(
        url(tenant),
        data={"kind": "twilio", "config": json.dumps({"account_sid": sid, "auth_token": TOKEN})},
        files={"unused": ("x.txt", b"ignored")},
        headers=tenant.headers,
    )
    assert fields.status_code == 201, fields.text

    key = json.dumps({"account_sid": sid, "auth_token": TOKEN}).encode()
    uploaded = await client.post(
        url(tenant),
        data={"kind": "twilio"},
        files={"key": ("key.json", key, "application/json")},
        headers=tenant.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["id"] == fields.json()["id"]  # the same account: one row
    assert secrets_of(runtime, await row(runtime, uploaded.json()["id"])) == {"auth_token": TOKEN}

    # The key file's fields win over a `config` field sent beside it.
    merged = await client.post(
        url(tenant),
        data={"kind": "twilio", "config": json.dumps({"auth_token": "overridden"})},
        files={"key": ("key.json", key)},
        headers=tenant.headers,
    )
    assert merged.status_code == 201, merged.text


@pytest.mark.parametrize(
    ("data", "files", "detail", "attr"),
    [
        ({"config": "{}"}, None, "This field is required.", "kind"),
        ({"kind": "twilio", "config": "{not json"}, None, "Value must be valid JSON.", "config"),
        ({"kind": "twilio"}, {"key": ("k.json", b"{broken")}, "Value must be valid JSON.", "key"),
        ({"kind": "twilio"}, {"key": ("k.json", b"[1, 2]")}, "The key file must hold a JSON object.", "key"),
        ({"kind": "twilio", "config": "[1]"}, None, 'Expected a dictionary of items but got type "list".', "config"),
        ({"kind": "twi\x00lio"}, None, "Null characters are not allowed.", "kind"),
        ({"kind": "twilio", "config": '{"auth_token": "a\\u0000b"}'}, None, "Null characters are not allowed.", "config__auth_token"),
        ({"kind": "twilio"}, {"key": ("k.json", b'{"auth_token": "\\ud800"}')}, "Surrogate characters are not allowed: U+D800.", "key__auth_token"),
        ({"kind": "nope"}, None, '"nope" is not a valid choice.', "kind"),
    ],
)  # fmt: skip
async def test_form_refusals(
    client: httpx.AsyncClient,
    tenant: Tenant,
    data: dict[str, str],
    files: dict[str, Any] | None,
    detail: str,
    attr: str,
) -> None:
    for with_file in (False, True):
        parts = files if files is not None else ({"unused": ("x", b"x")} if with_file else None)
        response = await client.post(url(tenant), data=data, files=parts, headers=tenant.headers)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == detail
        assert response.json()["attr"] == attr


async def test_json_still_works_and_other_media_types_are_415(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    sid = twilio_sim.add_account(sandbox.state, auth_token=TOKEN)
    as_json = await client.post(
        url(tenant), json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": TOKEN}}, headers=tenant.headers
    )
    assert as_json.status_code == 201, as_json.text
    broken = await client.post(
        url(tenant), content=b"{", headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    assert broken.json()["detail"].startswith("JSON parse error - ")
    empty = await client.post(url(tenant), headers=tenant.headers)
    assert empty.status_code == 400 and empty.json()["attr"] == "kind"
    plain = await client.post(url(tenant), content=b"kind=twilio", headers={**tenant.headers, "Content-Type": "text/plain"})
    assert plain.status_code == 415
    assert plain.json() == {
        "type": "invalid_request",
        "code": "unsupported_media_type",
        "detail": 'Unsupported media type "text/plain" in request.',
        "attr": None,
    }


async def test_body_limit_holds_for_forms(make_settings: Any, tenant: Tenant) -> None:
    settings = make_settings(max_body_bytes=2048)
    runtime = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            big = b'{"pad": "' + b"x" * 4096 + b'"}'
            multipart = await client.post(
                url(tenant), data={"kind": "twilio"}, files={"key": ("k.json", big)}, headers=tenant.headers
            )
            assert multipart.status_code == 413
            form = await client.post(
                url(tenant), data={"kind": "twilio", "config": big.decode()}, headers=tenant.headers
            )
            assert form.status_code == 413
            assert form.json()["code"] == "request_too_large"
    finally:
        await runtime.close()
