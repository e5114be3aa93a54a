"""On PostgreSQL: two `patchbay serve` processes, 20 concurrent proxy calls with a Slack token that
expires within 5 minutes (rotation on) -> exactly one refresh at Slack, every call answered with the
new token."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import select, update

from patchbay.models import Integration
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect_over_http
from tests.oauth.test_two_processes import servers  # noqa: F401 - the fixture

__all__ = ["servers"]


async def test_an_expiring_slack_token_is_refreshed_once_across_two_processes(
    servers: tuple[list[str], dict[str, Any]],  # noqa: F811
    sandbox: SandboxServer,
    make_settings: Any,
) -> None:
    urls, created = servers
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    project = created["project"]["id"]
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    async with httpx.AsyncClient(timeout=30) as http:
        pk = await connect_over_http(http, urls[0], project, "slack", headers)

        runtime = build_runtime(make_settings())
        try:
            async with runtime.db.transaction() as session:
                stored = await session.scalar(select(Integration).where(Integration.id == pk))
                assert stored is not None
                old = runtime.keyring.decrypt_json(stored.sensitive_config)
                lifetime = int(stored.config["expires_in"])
                config = {**stored.config, "refreshed_at": int(time.time()) - lifetime + 240}
                await session.execute(update(Integration).where(Integration.id == pk).values(config=config))

            _oauth.set_knob(sandbox.state, "slack", "refresh_delay", 0.5)
            answers = await asyncio.gather(
                *[
                    http.get(
                        f"{urls[i % 2]}/api/projects/{project}/integrations/{pk}/proxy/auth.test",
                        headers=headers,
                    )
                    for i in range(20)
                ]
            )
            assert [a.status_code for a in answers] == [200] * 20, answers[0].text
            assert all(a.json()["ok"] is True for a in answers)
            assert all(a.headers["patchbay-proxy"] == "upstream" for a in answers)
            assert _oauth.grants(sandbox.state, "slack", "refresh_token") == 1

            async with runtime.db.session() as session:
                after = await session.scalar(select(Integration).where(Integration.id == pk))
            assert after is not None
            new = runtime.keyring.decrypt_json(after.sensitive_config)
            assert (
                new["refresh_token"] != old["refresh_token"]
                and new["refresh_token"] in sandbox.state.refresh_tokens
            )
            auths = {c.headers["authorization"] for c in sandbox.state.calls if c.path.endswith("/auth.test")}
            assert auths == {f"Bearer {new['access_token']}"}
        finally:
            await runtime.close()
