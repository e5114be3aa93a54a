"""Integrations to proxy through, and a request with a path no HTTP client would send as is."""

from __future__ import annotations

from typing import Any

from patchbay.models import Integration
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant

TWILIO_TOKEN = "sentinel-twilio-auth-token-5c1b"


async def slack_integration(
    factory: Factory, tenant: Tenant, sandbox: SandboxServer, **account: Any
) -> Integration:
    slack_api.seed_workspace(sandbox.state)
    token = slack_api.issue_token(sandbox.state, **account)
    return await factory.integration(
        tenant.project,
        kind="slack",
        integration_id=slack_api.DEFAULT_TEAM_ID,
        config={"team": {"id": slack_api.DEFAULT_TEAM_ID}},
        sensitive_config={"access_token": token},
    )


async def twilio_integration(
    factory: Factory, tenant: Tenant, sandbox: SandboxServer
) -> tuple[Integration, str]:
    sid = twilio_sim.add_account(sandbox.state, auth_token=TWILIO_TOKEN)
    row = await factory.integration(
        tenant.project,
        kind="twilio",
        integration_id=sid,
        config={"account_sid": sid},
        sensitive_config={"auth_token": TWILIO_TOKEN},
    )
    return row, sid


async def raw_asgi_request(
    app: Any, method: str, raw_path: bytes, headers: dict[str, str], query: bytes = b"", body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Call the ASGI app with `raw_path` exactly as given (httpx would normalise `..` away)."""
    from urllib.parse import unquote_to_bytes

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent = False
    status = 0
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers.update({k.decode(): v.decode() for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, out_headers, b"".join(chunks)
