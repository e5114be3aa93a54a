"""A FastAPI route that calls its dependencies and endpoint directly on each request.

FastAPI solves a route's dependency graph on every request: for each dependency it extracts path,
query, header and cookie parameters, keys a cache and validates. For a route whose dependencies
take only the request and raw path parameters, that work decides nothing, and on the hottest write
(the create) it costs as much CPU as the statement's own encoding. `LeanRoute` reads the graph once,
when FastAPI builds the handler, and keeps a plan: each dependency with its arguments' sources, then
the endpoint. OpenAPI still comes from the declared signature.

A route whose graph has anything else (nested or yield dependencies, query/header/body parameters,
a sync callable) keeps FastAPI's handler, as does every request made while `dependency_overrides`
is set (tests): the plan is a faster path to the same calls, never different ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# FastAPI (0.16x) builds an included route's handler with the include's context (its prefix and the
# app's dependencies) in this context variable; without it, the route's own dependant is the whole.
_EFFECTIVE = getattr(fastapi.routing, "_effective_route_context_var", None)


@dataclass(frozen=True)
class _Step:
    """One call of the plan: `call(request=…, <path parameter>=…)`, its result kept as `name`."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    request_param: str | None
    path_params: tuple[tuple[str, str], ...]  # (argument name, path parameter name)

    def arguments(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {arg: request.path_params[key] for arg, key in self.path_params}
        if self.request_param is not None:
            kwargs[self.request_param] = request
        return kwargs


def _string_path_params(dependant: Dependant) -> tuple[tuple[str, str], ...] | None:
    pairs = []
    for field in dependant.path_params:
        if field.field_info.annotation is not str:
            return None  # FastAPI would convert or validate it: not the plan's to skip
        pairs.append((field.name, field.alias))
    return tuple(pairs)


def _step(dependant: Dependant, *, endpoint: bool = False) -> _Step | None:
    """The dependency (or the endpoint, whose dependencies are the plan's other steps) as a plan
    step, or None when FastAPI's solving does more than call it."""
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or (dependant.dependencies and not endpoint)
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    path_params = _string_path_params(dependant)
    if path_params is None:
        return None
    return _Step(call, dependant.name, dependant.request_param_name, path_params)


def lean_plan(dependant: Dependant) -> tuple[list[_Step], _Step] | None:
    """The dependencies in FastAPI's order and the endpoint, or None when the route is not lean."""
    steps = []
    for sub in dependant.dependencies:
        step = _step(sub)
        if step is None:
            return None
        steps.append(step)
    names = [step.name for step in steps if step.name is not None]
    calls = [step.call for step in steps]
    if len(names) != len(set(names)) or len(calls) != len(set(calls)):
        return None  # a dependency named or declared twice: FastAPI's cache decides what runs
    endpoint = _step(dependant, endpoint=True)
    if endpoint is None or not _answers_response(endpoint.call):
        return None
    return steps, endpoint


def _answers_response(call: Callable[..., Any]) -> bool:
    """FastAPI serializes whatever else an endpoint returns (response_model); the plan does not."""
    try:
        answer = inspect.signature(call, eval_str=True).return_annotation
    except (NameError, TypeError):
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


class LeanRoute(APIRoute):
    """An APIRoute served by its plan (see the module) when it has one; `lean` says whether it has."""

    lean: bool = False

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        effective = _EFFECTIVE.get() if _EFFECTIVE is not None else None
        route: Any = effective if effective is not None and effective.original_route is self else self
        plan = lean_plan(route.dependant)
        if plan is None:
            return standard
        self.lean = True
        steps, endpoint = plan
        overrides = route.dependency_overrides_provider

        async def handler(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                return await standard(request)
            values: dict[str, Any] = {}
            for step in steps:
                value = await step.call(**step.arguments(request))
                if step.name is not None:
                    values[step.name] = value
            response: Response = await endpoint.call(**endpoint.arguments(request), **values)
            return response

        return handler
