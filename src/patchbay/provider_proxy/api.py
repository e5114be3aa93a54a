"""Routes of the proxy and the credentials route (CONTRACT §6.1, §6.2)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from patchbay.kit.responses import JSONResponse
from patchbay.provider_proxy import credentials, service
from patchbay.provider_proxy.schemas import CredentialsOut
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import project_context

router = APIRouter(tags=["integrations"])

# The proxy writes nothing through the request's session (the activity row goes through the
# batching writer, a refresh takes its own): no transaction, so no connection held across the call.
proxy_write = project_context("integration:write", read_only=True)
# Named explicitly: `*` does not grant it (auth.scopes.EXPLICIT_OBJECTS).
read_credentials = project_context("integration_credentials:read")


@router.get(
    "/integrations/{id:row_id}/credentials",
    name="integrations_credentials_retrieve",
    response_model=CredentialsOut,
    summary="Fresh credentials of this integration, for your backend.",
)
async def get_credentials(id: int, ctx: ProjectContext = Depends(read_credentials)) -> Response:
    """The integration's credentials, fresh: OAuth kinds `{"access_token", "token_type"}` (refreshed
    first when the token expires within 5 minutes; the refresh token never leaves), Twilio
    `{"account_sid", "auth_token"}`. Needs a key that names `integration_credentials:read` (`*` does
    not grant it) and a project admin. Every read is recorded in the activity log."""
    return JSONResponse(await credentials.read_credentials(ctx, id))


# One route per method, each with its own operation id (PostHog's naming of actions).
PROXY_METHODS = {
    "GET": "integrations_proxy_retrieve",
    "POST": "integrations_proxy_create",
    "PUT": "integrations_proxy_update",
    "PATCH": "integrations_proxy_partial_update",
    "DELETE": "integrations_proxy_destroy",
}


async def proxy_call(
    id: int, path: str, request: Request, ctx: ProjectContext = Depends(proxy_write)
) -> Response:
    """Forward this call to the integration kind's API base + `/{path}` (query string as sent) with
    the integration's credentials; answer the provider's status, headers and body, plus
    `Patchbay-Proxy: upstream`. Headers sent as `Patchbay-Proxy-<Name>` are forwarded as `<Name>`.
    Request bodies up to 10 MiB. Needs `integration:write`."""
    return await service.proxy(ctx, id, request)


for _method, _name in PROXY_METHODS.items():
    router.add_api_route(
        "/integrations/{id:row_id}/proxy/{path:path}",
        proxy_call,
        methods=[_method],
        name=_name,
        summary="Call the provider's API through this integration.",
        response_class=Response,
    )
