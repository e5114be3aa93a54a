"""The OAuth simulators speak the providers' wire formats: single-use codes, PKCE, client
authentication styles, rotation, error shapes and injected faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from patchbay.oauth.authorize import pkce_challenge
from patchbay.providers.catalog import OAUTH_PROVIDERS
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

REDIRECT = "http://app.test/integrations/x/callback"
CREDS = {"client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}


@pytest.fixture
async def http(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url) as client:
        yield client


async def code_for(http: httpx.AsyncClient, path: str, **extra: str) -> str:
    params = {
        "client_id": SANDBOX_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "s1",
        "response_type": "code",
        **extra,
    }
    response = await http.get(f"{path}?{urlencode(params)}")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def test_env_wires_every_oauth_kind(sandbox: SandboxServer) -> None:
    env = sandbox.env()
    for kind in OAUTH_PROVIDERS:
        name = kind.upper().replace("-", "_")
        for suffix in ("CLIENT_ID", "CLIENT_SECRET", "AUTHORIZE_URL", "API_URL"):
            assert f"PATCHBAY_{name}_{suffix}" in env, (kind, suffix)
    assert env["PATCHBAY_SALESFORCE_SANDBOX_API_URL"].endswith("/salesforce/test")
    assert "PATCHBAY_SALESFORCE_SANDBOX_CLIENT_ID" not in env


async def test_authorize_refuses_unknown_client(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    response = await http.get(
        "/linear/oauth/authorize", params={"client_id": "who", "redirect_uri": REDIRECT}
    )
    assert response.status_code == 400


async def test_slack_codes_are_single_use_and_errors_are_200(
    http: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    code = await code_for(http, "/slack/oauth/v2/authorize", scope="channels:read")
    ok = await http.post(
        "/slack/api/oauth.v2.access",
        data={"code": code, "redirect_uri": REDIRECT},
        auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
    )
    body = ok.json()
    assert body["ok"] is True and body["team"] == {"id": "T0SANDBOX", "name": "Sandbox Workspace"}
    assert body["access_token"].startswith("xoxb-") and "refresh_token" not in body
    again = await http.post("/slack/api/oauth.v2.access", data={"code": code, **CREDS})
    assert again.status_code == 200 and again.json() == {"ok": False, "error": "invalid_code"}
    bad_client = await http.post("/slack/api/oauth.v2.access", data={"code": "x", "client_id": "nope"})
    assert bad_client.json()["error"] == "invalid_client_id"


async def test_slack_rotation(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    code = await code_for(http, "/slack/oauth/v2/authorize")
    first = (await http.post("/slack/api/oauth.v2.access", data={"code": code, **CREDS})).json()
    assert first["access_token"].startswith("xoxe.xoxb-") and first["expires_in"] > 0
    refreshed = (
        await http.post(
            "/slack/api/oauth.v2.access",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **CREDS},
        )
    ).json()
    assert refreshed["ok"] and refreshed["refresh_token"] != first["refresh_token"]
    reused = (
        await http.post(
            "/slack/api/oauth.v2.access",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **CREDS},
        )
    ).json()
    assert reused == {"ok": False, "error": "invalid_refresh_token"}


async def test_slack_oauth_fault_uses_slack_shapes(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    sandbox.state.inject("slack", "429", path_contains="oauth.v2.access", retry_after=5)
    limited = await http.post("/slack/api/oauth.v2.access", data=CREDS)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "5"
    assert limited.json() == {"ok": False, "error": "ratelimited"}


async def test_clickup_accepts_json_and_answers_only_the_token(
    http: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    code = await code_for(http, "/clickup/authorize")
    response = await http.post("/clickup/api/v2/oauth/token", json={"code": code, **CREDS})
    assert response.status_code == 200 and list(response.json()) == ["access_token"]
    user = await http.get(
        "/clickup/api/v2/user", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert user.json()["user"]["id"] == 183
    denied = await http.get("/clickup/api/v2/user", headers={"Authorization": "Bearer nope"})
    assert denied.status_code == 401 and denied.json() == {"err": "Token invalid", "ECODE": "OAUTH_025"}


async def test_linear_pkce_form_only_and_revoke(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    verifier = "v" * 64
    code = await code_for(
        http, "/linear/oauth/authorize", code_challenge=pkce_challenge(verifier), code_challenge_method="S256"
    )
    as_json = await http.post(
        "/linear/oauth/token", json={"code": code, "grant_type": "authorization_code", **CREDS}
    )
    assert as_json.status_code == 400
    wrong = await http.post(
        "/linear/oauth/token",
        data={"code": code, "grant_type": "authorization_code", "code_verifier": "x" * 64, **CREDS},
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = await code_for(
        http, "/linear/oauth/authorize", code_challenge=pkce_challenge(verifier), code_challenge_method="S256"
    )
    ok = await http.post(
        "/linear/oauth/token",
        data={"code": code, "grant_type": "authorization_code", "code_verifier": verifier, **CREDS},
    )
    tokens = ok.json()
    assert (
        ok.status_code == 200
        and tokens["refresh_token"]
        and tokens["expires_in"] == sandbox.state.token_lifetime
    )
    revoked = await http.post("/linear/oauth/revoke", data={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    graphql = await http.post(
        "/linear/graphql",
        json={"query": "{ viewer { organization { id } } }"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert graphql.status_code == 401


async def test_google_refresh_token_only_offline(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    code = await code_for(
        http, "/google/o/oauth2/v2/auth", scope="https://www.googleapis.com/auth/spreadsheets"
    )
    online = (
        await http.post("/google/token", data={"code": code, "grant_type": "authorization_code", **CREDS})
    ).json()
    assert "refresh_token" not in online and online["id_token"].count(".") == 2
    code = await code_for(http, "/google/o/oauth2/v2/auth", access_type="offline", prompt="consent")
    offline = (
        await http.post("/google/token", data={"code": code, "grant_type": "authorization_code", **CREDS})
    ).json()
    refreshed = (
        await http.post(
            "/google/token",
            data={"grant_type": "refresh_token", "refresh_token": offline["refresh_token"], **CREDS},
        )
    ).json()
    assert refreshed["access_token"] != offline["access_token"] and "refresh_token" not in refreshed
    info = await http.get(
        "/google/v1/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"}
    )
    assert info.json()["email"] == "sandbox.user@gmail.com"


async def test_basic_auth_providers_refuse_body_credentials(
    http: httpx.AsyncClient, sandbox: SandboxServer
) -> None:
    code = await code_for(http, "/oauth/pinterest-ads/authorize")
    in_body = await http.post(
        "/oauth/pinterest-ads/v5/oauth/token",
        data={"code": code, "grant_type": "authorization_code", **CREDS},
    )
    assert in_body.status_code == 401
    code = await code_for(http, "/oauth/stripe/authorize")
    stripe = await http.post(
        "/oauth/stripe/v1/oauth/token",
        data={"code": code, "grant_type": "authorization_code"},
        auth=(SANDBOX_CLIENT_SECRET, ""),
    )
    assert stripe.json()["stripe_user_id"] == "acct_1SandboxAcct01"


async def test_tiktok_envelope(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    response = await http.get(
        "/oauth/tiktok-ads/authorize",
        params={"app_id": SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT, "state": "s"},
    )
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    bad = await http.post(
        "/oauth/tiktok-ads/open_api/v1.3/oauth2/access_token/",
        json={"app_id": SANDBOX_CLIENT_ID, "secret": "x", "auth_code": code},
    )
    assert bad.status_code == 200 and bad.json()["code"] == 40001
    ok = await http.post(
        "/oauth/tiktok-ads/open_api/v1.3/oauth2/access_token/",
        json={"app_id": SANDBOX_CLIENT_ID, "secret": SANDBOX_CLIENT_SECRET, "auth_code": code},
    )
    body = ok.json()
    assert body["code"] == 0 and body["data"]["advertiser_ids"] == ["7001000000000000001"]


async def test_refresh_delay_and_grant_log(http: httpx.AsyncClient, sandbox: SandboxServer) -> None:
    code = await code_for(http, "/hubspot/oauth/authorize")
    tokens = (
        await http.post(
            "/hubspot/oauth/v1/token",
            data={"code": code, "grant_type": "authorization_code", "redirect_uri": REDIRECT, **CREDS},
        )
    ).json()
    bad = await http.post(
        "/hubspot/oauth/v1/token", data={"grant_type": "refresh_token", "refresh_token": "nope", **CREDS}
    )
    assert bad.status_code == 400 and bad.json()["status"] == "BAD_REFRESH_TOKEN"
    good = await http.post(
        "/hubspot/oauth/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **CREDS},
    )
    assert good.json()["refresh_token"] == tokens["refresh_token"]  # HubSpot does not rotate
    assert _oauth.grants(sandbox.state, "hubspot", "refresh_token") == 2
    assert _oauth.grants(sandbox.state, "hubspot", "authorization_code") == 1
