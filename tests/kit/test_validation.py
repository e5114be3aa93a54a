"""Strings with a NUL or a lone surrogate are refused where they enter (kit/validation.py): a 400
whose `attr` names the field, in DRF's words — never a 500 from the database, a log line or a
provider call. And ids too large for the column are 404, not a database error."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit.errors import ValidationError
from patchbay.kit.validation import reject_unsafe_strings, unsafe_character
from tests.support.factory import Tenant

SURROGATE = {
    "type": "validation_error",
    "code": "surrogate_characters_not_allowed",
    "detail": "Surrogate characters are not allowed: U+D800.",
}
NUL = {"type": "validation_error", "code": "null_characters_not_allowed", "detail": "Null characters are not allowed."}


def test_unsafe_character_spots_nul_and_lone_surrogates_only() -> None:
    for fine in ("", "plain", "caf\u00e9", "\U0001f600", "\u0661"):
        assert unsafe_character(fine) is None
    nul = unsafe_character("a\x00b")
    assert nul is not None and nul.detail == NUL["detail"]
    low = unsafe_character("x\udfffy")
    assert low is not None and low.detail == "Surrogate characters are not allowed: U+DFFF."


def test_attr_names_the_nested_field_and_never_echoes_a_bad_key() -> None:
    with pytest.raises(ValidationError) as raised:
        reject_unsafe_strings({"kind": "twilio", "config": {"list": ["ok", "\ud800"]}})
    assert raised.value.attr == "config__list__1"
    with pytest.raises(ValidationError) as raised:
        reject_unsafe_strings({"config": {"bad\ud800key": 1}})
    assert raised.value.attr == "config"


@pytest.mark.parametrize(
    ("config", "attr"),
    [
        ({"kind": "twilio", "config": {"account_sid": "\ud800", "auth_token": "t"}}, "config__account_sid"),
        ({"kind": "twilio", "config": {"account_sid": "AC1", "auth_token": "\ud800"}}, "config__auth_token"),
        ({"kind": "databricks", "config": {"server_hostname": "\ud800", "client_id": "c", "client_secret": "s"}},
         "config__server_hostname"),
        ({"kind": "databricks", "config": {"server_hostname": "52.1.2.3", "client_id": "c", "client_secret": "\ud800"}},
         "config__client_secret"),
        ({"kind": "slack", "config": {"state": "\ud800", "code": "c"}}, "config__state"),
    ],
)  # fmt: skip
async def test_lone_surrogates_in_a_body_are_400_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant, config: dict[str, object], attr: str
) -> None:
    import json

    response = await client.post(
        f"{tenant.base}/integrations/",
        content=json.dumps(config),  # ensure_ascii: the surrogate travels as a \\ud800 escape
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json() == {**SURROGATE, "attr": attr}


async def test_a_nul_in_the_callback_state_is_400_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/integrations/slack/callback?code=c&state=abc%00def")
    assert response.status_code == 400
    assert response.json() == {**NUL, "attr": "state"}


async def test_a_nul_in_a_query_parameter_is_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(f"{tenant.base}/integrations/?kind=%00", headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == {**NUL, "attr": "kind"}


async def test_a_nul_in_a_path_segment_names_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/vercel/v1/installations/icfg%00x")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("integration_id", [2**31, 2**63, 2**64, -1, 0])
async def test_apply_url_ids_the_column_cannot_hold_are_404(
    client: httpx.AsyncClient, tenant: Tenant, integration_id: int
) -> None:
    response = await client.post(
        f"{tenant.base}/integrations/domain-connect/apply-url/",
        json={"context": "email", "integration_id": integration_id},
        headers=tenant.headers,
    )
    assert response.status_code == 404, response.text
    assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
