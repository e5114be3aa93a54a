"""Routes listing what lives on the provider side of an integration. Every provider package declares
its own (`ResourceLister.routes`); they are mounted here from the registry, each as
`GET /integrations/{id}/{path}` (or the route's own method and scope) with the provider's query
parameters."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Response

from patchbay.kit.errors import ValidationError
from patchbay.kit.responses import JSONResponse
from patchbay.provider_resources import service
from patchbay.providers import registry
from patchbay.providers.base import ResourceRoute
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])


def endpoint_for(route: ResourceRoute, kinds: tuple[str, ...]) -> Callable[..., Awaitable[Response]]:
    """A FastAPI endpoint: the integration id and the caller's context, then the handler's own
    query parameters (their Query(...) defaults and types, so OpenAPI shows them as declared)."""
    hints = typing.get_type_hints(route.handler)
    query = [
        parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
        for parameter in list(inspect.signature(route.handler).parameters.values())[1:]
    ]

    async def endpoint(id: int, ctx: ProjectContext, **params: typing.Any) -> Response:
        resources = await service.open_resources(ctx, id)
        if resources.kind not in kinds:
            detail = route.wrong_kind.replace("{id}", str(id)).replace("{kind}", repr(resources.kind))
            raise ValidationError(detail, attr=route.wrong_kind_attr)
        return JSONResponse(await route.handler(resources, **params))

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("id", keyword, annotation=int),
            inspect.Parameter(
                "ctx", keyword, annotation=ProjectContext, default=Depends(project_context(route.scope))
            ),
            *query,
        ],
        return_annotation=Response,
    )
    endpoint.__name__ = route.handler.__name__
    endpoint.__doc__ = route.handler.__doc__  # the route's OpenAPI description
    return endpoint


for _provider in sorted(
    (p for p in registry.providers() if p.resources is not None),
    key=lambda p: p.resources.priority if p.resources is not None else 0,
):
    assert _provider.resources is not None
    for _route in _provider.resources.routes:
        router.add_api_route(
            f"/integrations/{{id:row_id}}/{_route.path}",
            endpoint_for(_route, _provider.kinds),
            methods=[_route.method],
            name=_route.name,
            response_model=_route.response_model,
            summary=_route.summary,
        )
