"""kit.lean_route: a LeanRoute makes the calls FastAPI's handler would make, in the same order, with
the same arguments and the same errors; routes whose dependencies need FastAPI's solving keep it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from patchbay.kit.lean_route import LeanRoute

calls: list[tuple[str, Any]] = []


async def guard(request: Request) -> None:
    calls.append(("guard", request.url.path))
    if request.headers.get("x-refuse"):
        raise LookupError("refused")


async def tenant(project_id: str, request: Request) -> dict[str, str]:
    calls.append(("tenant", project_id))
    return {"project": project_id, "method": request.method}


async def with_query(project_id: str, limit: int = 10) -> int:
    return limit


async def nested(found: dict[str, str] = Depends(tenant)) -> str:
    return found["project"]


async def yielding(project_id: str) -> AsyncIterator[str]:
    calls.append(("enter", project_id))
    yield project_id
    calls.append(("exit", project_id))


def sync_tenant(project_id: str) -> str:
    return project_id


def build(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.post("/things")
    async def create(request: Request, found: dict[str, str] = Depends(tenant)) -> Response:
        return JSONResponse({"found": found, "body": (await request.body()).decode()}, status_code=201)

    @router.get("/things/{id}")
    async def typed(id: int, found: dict[str, str] = Depends(tenant)) -> Response:
        return JSONResponse({"id": id})

    @router.get("/query")
    async def query(limit: int = Depends(with_query)) -> Response:
        return JSONResponse({"limit": limit})

    @router.get("/nested")
    async def nesting(project: str = Depends(nested)) -> Response:
        return JSONResponse({"project": project})

    @router.get("/yield")
    async def yielded(project: str = Depends(yielding)) -> Response:
        calls.append(("endpoint", project))
        return JSONResponse({"project": project})

    @router.get("/sync")
    async def synced(project: str = Depends(sync_tenant)) -> Response:
        return JSONResponse({"project": project})

    @router.get("/model")
    async def model(found: dict[str, str] = Depends(tenant)) -> dict[str, str]:
        return found

    @router.get("/twice")
    async def twice(a: dict[str, str] = Depends(tenant), b: dict[str, str] = Depends(tenant)) -> Response:
        return JSONResponse({"same": a is b})

    app = FastAPI(dependencies=[Depends(guard)])

    async def refused(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=418)

    app.add_exception_handler(LookupError, refused)
    app.include_router(router, prefix="/p/{project_id}")
    return app


async def answers(app: FastAPI, method: str, path: str, **kwargs: Any) -> tuple[int, Any, list[Any]]:
    calls.clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.request(method, path, **kwargs)
    return response.status_code, response.json(), list(calls)


def lean_routes(app: FastAPI) -> dict[str, bool]:
    router = next(r for r in app.router.routes if hasattr(r, "original_router")).original_router
    return {f"{sorted(r.methods)[0]} {r.path}": r.lean for r in router.routes}


REQUESTS = [
    ("POST", "/p/7/things", {"content": b"hello"}),
    ("POST", "/p/7/things", {"content": b"x", "headers": {"x-refuse": "1"}}),
    ("GET", "/p/7/things/12", {}),
    ("GET", "/p/7/things/abc", {}),
    ("GET", "/p/7/query?limit=3", {}),
    ("GET", "/p/7/nested", {}),
    ("GET", "/p/7/yield", {}),
    ("GET", "/p/7/sync", {}),
    ("GET", "/p/7/model", {}),
    ("GET", "/p/7/twice", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS)
async def test_a_lean_route_answers_and_calls_as_fastapi_does(method: str, path: str, kwargs: Any) -> None:
    assert await answers(build(LeanRoute), method, path, **kwargs) == await answers(
        build(APIRoute), method, path, **kwargs
    )


async def test_only_routes_of_requests_and_string_path_parameters_are_lean() -> None:
    app = build(LeanRoute)
    for method, path, kwargs in REQUESTS:
        await answers(app, method, path, **kwargs)
    assert lean_routes(app) == {
        "POST /things": True,
        "GET /things/{id}": False,  # an int FastAPI validates
        "GET /query": False,  # a query parameter
        "GET /nested": False,  # a dependency of a dependency
        "GET /yield": False,  # a dependency with an exit
        "GET /sync": False,  # run in a thread by FastAPI
        "GET /model": False,  # an answer FastAPI serializes
        "GET /twice": False,  # FastAPI's cache calls it once
    }


async def test_the_plan_passes_the_path_parameter_and_the_request() -> None:
    status, body, seen = await answers(build(LeanRoute), "POST", "/p/41/things", content=b"payload")
    assert status == 201
    assert body == {"found": {"project": "41", "method": "POST"}, "body": "payload"}
    assert seen == [("guard", "/p/41/things"), ("tenant", "41")]


async def test_a_dependency_error_reaches_the_apps_exception_handler() -> None:
    status, body, seen = await answers(
        build(LeanRoute), "POST", "/p/41/things", content=b"x", headers={"x-refuse": "1"}
    )
    assert (status, body) == (418, {"detail": "refused"})
    assert seen == [("guard", "/p/41/things")]  # nothing after the refusal ran


async def test_dependency_overrides_are_honoured() -> None:
    app = build(LeanRoute)

    async def other(project_id: str) -> dict[str, str]:
        return {"project": "overridden " + project_id, "method": "-"}

    app.dependency_overrides[tenant] = other
    status, body, _ = await answers(app, "POST", "/p/5/things", content=b"")
    assert (status, body["found"]) == (201, {"project": "overridden 5", "method": "-"})
    app.dependency_overrides.clear()
    _, body, _ = await answers(app, "POST", "/p/5/things", content=b"")
    assert body["found"] == {"project": "5", "method": "POST"}
