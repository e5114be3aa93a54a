"""The OAuth `state` is random, single-use, bound to user, project and kind, and expires after 10
minutes; `next` is a relative path or on an allowed origin. Every refusal is a clear 400 and
creates nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import update

from patchbay.models import OAuthState
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, consent, rows, start
from tests.support.factory import Factory, Tenant

NOT_CONFIGURED = "Kind not configured. Set PATCHBAY_SLACK_CLIENT_ID and PATCHBAY_SLACK_CLIENT_SECRET on the Patchbay server."


async def post_code(
    client: httpx.AsyncClient, tenant: Tenant, kind: str, code: str | None, state: str | None
) -> httpx.Response:
    config = {k: v for k, v in {"code": code, "state": state}.items() if v is not None}
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers
    )


def assert_refused(response: httpx.Response, detail_contains: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "validation_error"
    assert detail_contains in body["detail"], body


async def test_unknown_state_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    forged = urlencode({"next": "/done", "token": "f" * 66, "team_id": str(tenant.project.id)})
    assert_refused(await post_code(client, tenant, "linear", given.code, forged), "not recognised")
    assert_refused(
        await post_code(client, tenant, "linear", given.code, None), "state token must be provided"
    )
    assert await rows(runtime) == []


async def test_state_is_single_use(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    first = await post_code(client, tenant, "linear", given.code, given.state)
    assert first.status_code == 201
    again = await post_code(client, tenant, "linear", "another-code", given.state)
    assert_refused(again, "already used")
    # The browser callback refuses the spent state too.
    replay = await client.get(given.callback_path)
    assert_refused(replay, "already used")
    assert len(await rows(runtime)) == 1


async def test_expired_state_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "hubspot")
    token = parse_qs(given.state)["token"][0]
    async with runtime.db.transaction() as session:
        await session.execute(
            update(OAuthState)
            .where(OAuthState.token == token)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_refused(await post_code(client, tenant, "hubspot", given.code, given.state), "expired")
    assert await rows(runtime) == []
    assert sandbox.state.count_calls("hubspot", "/oauth/v1/token") == 0


async def test_state_of_another_user_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    other = await factory.member_of(tenant)
    given = await consent(client, tenant, "clickup")
    assert_refused(await post_code(client, other, "clickup", given.code, given.state), "another user")
    assert await rows(runtime) == []
    # Refusal did not spend it: the rightful user can still finish.
    assert (await post_code(client, tenant, "clickup", given.code, given.state)).status_code == 201


async def test_state_of_another_project_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    second = await factory.project(tenant.organization)
    given = await consent(client, tenant, "clickup")
    other_project = Tenant(tenant.user, tenant.organization, second, tenant.key, tenant.headers)
    assert_refused(
        await post_code(client, other_project, "clickup", given.code, given.state), "another project"
    )
    assert await rows(runtime) == []


async def test_state_of_another_kind_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "slack")
    assert_refused(
        await post_code(client, tenant, "clickup", given.code, given.state), "another integration kind"
    )
    callback = urlsplit(given.callback_path)
    wrong_path = await client.get(f"/integrations/linear/callback?{callback.query}")
    assert_refused(wrong_path, "another integration kind")
    assert await rows(runtime) == []


async def test_missing_code_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "slack")
    response = await post_code(client, tenant, "slack", None, given.state)
    assert_refused(response, "code must be provided")
    assert response.json()["attr"] == "code"


async def test_callback_redirects_to_next_with_integration_id(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "slack", next_url="/settings/integrations?x=1")
    [stored] = await rows(runtime)
    assert stored.id == pk and stored.kind == "slack"


async def test_denied_consent_redirects_with_error(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sandbox.state.provider_data("slack")["deny"] = True
    given = await consent(client, tenant, "slack", next_url="/back")
    assert given.error == "access_denied" and given.code is None
    response = await client.get(given.callback_path)
    assert response.status_code == 302
    assert response.headers["location"] == "/back?error=access_denied"
    assert await rows(runtime) == []


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/steal",
        "//evil.example/x",
        "javascript:alert(1)",
        "relative/path",
        "/\\evil.example",
    ],
)
async def test_authorize_refuses_foreign_next(
    next_url: str, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    response = await start(client, tenant, "slack", next_url)
    assert response.status_code == 400
    assert response.json()["attr"] == "next"


async def test_authorize_accepts_allowed_origin(
    make_settings, factory: Factory, sandbox: SandboxServer
) -> None:  # type: ignore[no-untyped-def]
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    runtime = build_runtime(make_settings(allowed_redirect_origins="https://app.example.com"))
    try:
        tenant = await Factory(runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            ok = await start(c, tenant, "slack", "https://app.example.com/integrations")
            assert ok.status_code == 302
            site = await start(c, tenant, "slack", "http://testserver/home")
            assert site.status_code == 302
            bad = await start(c, tenant, "slack", "https://app.example.com.evil.net/")
            assert bad.status_code == 400
    finally:
        await runtime.close()


async def test_authorize_unknown_kinds(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    hints = {
        "twilio": "'twilio' does not connect through OAuth: create it with POST …/integrations/",
        "nope": "'nope' is not an OAuth kind; OAuth kinds are: ",
        "": "Pass the OAuth kind to connect as the `kind` query parameter",
    }
    for kind, hint in hints.items():
        response = await start(client, tenant, kind)
        assert response.status_code == 400
        body = response.json()
        assert body["attr"] == "kind" and body["detail"].startswith("Kind not supported. ")
        assert hint in body["detail"]
    listed = (await start(client, tenant, "nope")).json()["detail"]
    assert "slack" in listed and "linear" in listed and "twilio" not in listed
    missing = await client.get(f"{tenant.base}/integrations/authorize/", headers=tenant.headers)
    assert missing.status_code == 400 and missing.json()["attr"] == "kind"


async def test_unconfigured_kind_answers_kind_not_configured(make_settings, sandbox: SandboxServer) -> None:  # type: ignore[no-untyped-def]
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    settings = make_settings(
        kind_overrides={"PATCHBAY_SLACK_CLIENT_ID": "", "PATCHBAY_SLACK_CLIENT_SECRET": ""}
    )
    runtime = build_runtime(settings)
    try:
        tenant = await Factory(runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await start(c, tenant, "slack")
            assert response.status_code == 400 and response.json()["detail"] == NOT_CONFIGURED
            created = await c.post(
                f"{tenant.base}/integrations/",
                json={"kind": "slack", "config": {"code": "x", "state": "y"}},
                headers=tenant.headers,
            )
            assert created.status_code == 400 and created.json()["detail"] == NOT_CONFIGURED
    finally:
        await runtime.close()


async def test_authorize_needs_write_scope(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    reader = await factory.member_of(tenant, scopes=["integration:read"])
    response = await start(client, reader, "slack")
    assert response.status_code == 403
    assert "integration:write" in response.json()["detail"]


async def test_cookie_and_state_record(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    response = await start(client, tenant, "linear")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("ph_oauth_state=") and "Max-Age=600" in cookie and "Path=/" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    state = parse_qs(urlsplit(response.headers["location"]).query)["state"][0]
    token = parse_qs(state)["token"][0]
    async with runtime.db.session() as session:
        stored = await session.get(OAuthState, token)
    assert stored is not None
    # The cookie holds the browser's binding; the state keeps only its hash.
    binding = response.cookies["ph_oauth_state"]
    assert binding != token and stored.browser_binding == hashlib.sha256(binding.encode()).hexdigest()
    assert (
        stored.user_id == tenant.user.id
        and stored.project_id == tenant.project.id
        and stored.kind == "linear"
    )
    assert stored.used_at is None
    assert timedelta(minutes=9) < stored.expires_at - datetime.now(UTC) <= timedelta(minutes=10)
    # The PKCE verifier is stored encrypted.
    verifier = runtime.keyring.decrypt_json(stored.secret)["code_verifier"]
    assert len(verifier) > 43 and verifier not in stored.secret


async def test_concurrent_finishes_spend_the_state_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    import asyncio

    given = await consent(client, tenant, "linear")
    first, second = await asyncio.gather(
        post_code(client, tenant, "linear", given.code, given.state),
        client.get(given.callback_path),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([201, 400], [302, 400]), (first.text, second.text)
    assert sandbox.state.count_calls("linear", "/oauth/token") == 1
    assert len(await rows(runtime)) == 1


async def test_environment_alias_and_current_project(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    for base in ("/api/environments/@current", f"/api/environments/{tenant.project.id}"):
        response = await client.get(
            f"{base}/integrations/authorize", params={"kind": "slack"}, headers=tenant.headers
        )
        assert response.status_code == 302
        state = parse_qs(urlsplit(response.headers["location"]).query)["state"][0]
        assert parse_qs(state)["team_id"] == [str(tenant.project.id)]
        assert parse_qs(state)["next"] == ["/"]


async def test_a_code_that_is_not_a_string_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    for code in (12345, ["x"], {"code": "x"}):
        response = await client.post(
            f"{tenant.base}/integrations/",
            json={"kind": "linear", "config": {"code": code, "state": given.state}},
            headers=tenant.headers,
        )
        assert_refused(response, "code must be provided")
        assert response.json()["attr"] == "code"
    assert sandbox.state.count_calls("linear", "/oauth/token") == 0
    assert await rows(runtime) == []


async def test_a_state_string_without_a_token_is_unknown(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    for state in (urlencode({"next": "/x", "team_id": str(tenant.project.id)}), "token=&next=%2F"):
        assert_refused(await post_code(client, tenant, "linear", given.code, state), "not recognised")
    assert await rows(runtime) == []


async def test_a_callback_without_a_code_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "linear")
    callback = urlsplit(given.callback_path)
    query = urlencode({k: v for k, v in parse_qs(callback.query).items() if k != "code"}, doseq=True)
    response = await client.get(f"{callback.path}?{query}")
    assert_refused(response, "code must be provided")
    assert sandbox.state.count_calls("linear", "/oauth/token") == 0
    assert await rows(runtime) == []


async def test_a_callback_for_an_unknown_kind_reads_no_state(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "slack", "/done")
    query = urlsplit(given.callback_path).query
    response = await client.get(f"/integrations/nope/callback?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error", "code": "invalid_input", "detail": "Kind not supported", "attr": None,
    }  # fmt: skip
    # The attempt is still there for its own kind's callback.
    done = await client.get(given.callback_path)
    assert done.status_code == 302 and "integration_id=" in done.headers["location"]


async def test_a_state_without_a_browser_binding_finishes_nowhere(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    """Every attempt is bound to its browser when it starts; a state row without a binding is not an
    open door for any browser."""
    given = await consent(client, tenant, "linear")
    async with runtime.db.session() as session, session.begin():
        await session.execute(update(OAuthState).values(browser_binding=None))
    refused = await client.get(given.callback_path)
    assert refused.status_code == 400 and refused.json()["attr"] == "state"
    assert await rows(runtime) == []


async def test_a_connected_integration_starts_healthy(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    """The code exchange proved the credentials: the new row says so without a check."""
    pk = await connect(client, tenant, "linear")
    body = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    assert body["health"]["status"] == "healthy"


async def test_two_attempts_side_by_side_in_one_browser_both_finish(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    """Two tabs: the second start reuses the browser's binding instead of replacing it."""
    first = await consent(client, tenant, "linear")
    second = await consent(client, tenant, "linear")
    assert (await client.get(first.callback_path)).status_code == 302
    assert (await client.get(second.callback_path)).status_code == 302
