"""Request-end work (kit.request_scope): run by RequestMiddleware after every request, whatever
happened; sessions opened by the tenancy dependencies are closed by it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from patchbay.kit.request_scope import at_request_end
from patchbay.operations.middleware import RequestMiddleware
from patchbay.runtime import Runtime
from tests.support.factory import Tenant


def _app(ran: list[str]) -> Starlette:
    async def ok(request: Request) -> JSONResponse:
        async def first() -> None:
            ran.append("first")

        async def broken() -> None:
            raise RuntimeError("clean-up failed")

        async def last() -> None:
            ran.append("last")

        for cleanup in (first, broken, last):
            at_request_end(request.scope, cleanup)
        return JSONResponse({"ok": True})

    async def boom(request: Request) -> JSONResponse:
        async def after() -> None:
            ran.append("after boom")

        at_request_end(request.scope, after)
        raise ValueError("unexpected")

    app = Starlette(routes=[Route("/ok", ok), Route("/boom", boom)])
    app.add_middleware(RequestMiddleware)
    return app


async def test_work_runs_after_the_request_in_reverse_order_and_survives_failures() -> None:
    ran: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(ran)), base_url="http://t") as c:
        response = await c.get("/ok")
        assert response.status_code == 200
        assert ran == ["last", "first"]  # the failing one in between did not stop the rest
        response = await c.get("/boom")
    assert response.status_code == 500
    assert ran[-1] == "after boom"


async def test_without_the_middleware_registering_work_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="RequestMiddleware"):
        at_request_end({"type": "http"}, _noop)


async def _noop() -> None:
    return None


async def test_sessions_are_back_in_the_pool_after_every_request(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    pool = runtime.db.engine.pool
    requests = [
        client.get(f"{tenant.base}/integrations/", headers=tenant.headers),  # read-only
        client.post(f"{tenant.base}/integrations/", json={"kind": "nope"}, headers=tenant.headers),  # 400
        client.post(  # a write that commits
            f"{tenant.base}/integrations/",
            json={
                "kind": "databricks",
                "config": {"server_hostname": "52.1.2.3", "client_id": "c", "client_secret": "s"},
            },
            headers=tenant.headers,
        ),
        client.get("/api/organizations/@current/integrations/", headers=tenant.headers),
    ]
    statuses = []
    for request in requests:
        response = await request
        statuses.append(response.status_code)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert statuses == [200, 400, 201, 200], statuses
