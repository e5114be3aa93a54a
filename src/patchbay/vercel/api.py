"""Routes Vercel calls (marketplace installations, webhooks), the browser return of "link existing
account", and the API call that finishes the link."""

from __future__ import annotations

import html

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.service import anonymous_caller
from patchbay.kit.responses import JSONResponse
from patchbay.runtime import Runtime
from patchbay.tenancy.context import UserContext
from patchbay.tenancy.dependencies import get_runtime, get_session, user_context
from patchbay.vercel import linking, service
from patchbay.vercel import webhooks as vercel_webhooks
from patchbay.vercel.schemas import ConnectComplete, ConnectCompleted, InstallationUpsert

router = APIRouter(tags=["vercel"])

link_caller = user_context("organization_integration:write")
# Vercel's calls and the browser's carry no API key: counted per address (connect/complete has a key).
ANONYMOUS = [Depends(anonymous_caller)]

_VERCEL_AUTH_DOC = "`user` or `system`, as Vercel sends it (inferred from the token when absent)."


@router.put(
    "/api/vercel/v1/installations/{installation_id}",
    name="vercel_installation_update",
    dependencies=ANONYMOUS,
    status_code=204,
    summary="Vercel marketplace: upsert an installation (Vercel's OIDC token, user auth, ADMIN role).",
)
async def upsert_installation(
    installation_id: str,
    body: InstallationUpsert,
    authorization: str | None = Header(None),
    x_vercel_auth: str | None = Header(None, description=_VERCEL_AUTH_DOC),
    runtime: Runtime = Depends(get_runtime),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Vercel marketplace: create or update an installation. Called by Vercel with its OIDC token
    (user auth, ADMIN role); not with an API key.
    """
    claims = await service.authenticate_marketplace(
        runtime,
        authorization=authorization,
        auth_header=x_vercel_auth,
        installation_id=installation_id,
        action="update",
        allowed=("user",),
        admin_only=True,
    )
    await service.upsert_installation(runtime, session, installation_id, body, claims)
    return Response(status_code=204)


@router.get(
    "/api/vercel/v1/installations/{installation_id}",
    name="vercel_installation_retrieve",
    dependencies=ANONYMOUS,
    summary="Vercel marketplace: get an installation (system auth).",
)
async def get_installation(
    installation_id: str,
    authorization: str | None = Header(None),
    x_vercel_auth: str | None = Header(None, description=_VERCEL_AUTH_DOC),
    runtime: Runtime = Depends(get_runtime),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Vercel marketplace: whether the installation exists (an empty object; billing runs outside
    Patchbay). Called by Vercel (system auth)."""
    await service.authenticate_marketplace(
        runtime,
        authorization=authorization,
        auth_header=x_vercel_auth,
        installation_id=installation_id,
        action="retrieve",
        allowed=("system",),
        admin_only=False,
    )
    return JSONResponse(await service.get_installation(session, installation_id))


@router.delete(
    "/api/vercel/v1/installations/{installation_id}",
    name="vercel_installation_destroy",
    dependencies=ANONYMOUS,
    summary="Vercel marketplace: delete an installation and its project integrations.",
)
async def delete_installation(
    installation_id: str,
    authorization: str | None = Header(None),
    x_vercel_auth: str | None = Header(None, description=_VERCEL_AUTH_DOC),
    runtime: Runtime = Depends(get_runtime),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Vercel marketplace: delete an installation and the project integrations it made. Called by
    Vercel.
    """
    await service.authenticate_marketplace(
        runtime,
        authorization=authorization,
        auth_header=x_vercel_auth,
        installation_id=installation_id,
        action="destroy",
        allowed=("user", "system"),
        admin_only=True,
    )
    return JSONResponse(await service.delete_installation(session, installation_id))


@router.post(
    "/api/vercel/v1/webhooks",
    name="vercel_webhooks",
    dependencies=ANONYMOUS,
    summary="Vercel webhooks (x-vercel-signature: hex HMAC-SHA1 of the raw body, keyed with the client secret).",
)
async def webhooks(
    request: Request,
    x_vercel_signature: str | None = Header(None),
    runtime: Runtime = Depends(get_runtime),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Vercel webhooks, signed with `x-vercel-signature` (hex HMAC-SHA1 of the raw body, keyed with the
    Vercel client secret).
    """
    raw = await request.body()
    return JSONResponse(await vercel_webhooks.handle_webhook(runtime, session, raw, x_vercel_signature))


@router.get(
    "/connect/vercel/callback",
    name="vercel_connect_callback",
    dependencies=ANONYMOUS,
    summary="Vercel's return for 'link existing account': exchanges the code, then 302 to the linking page.",
)
async def connect_callback(
    code: str | None = Query(None),
    configurationId: str | None = Query(None),  # noqa: N803 - Vercel's parameter name
    next: str | None = Query(None),  # noqa: A002 - Vercel's parameter name
    runtime: Runtime = Depends(get_runtime),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Vercel's return for "link an existing account": exchanges the code, then 302 to the linking
    page. Browser-facing, no API key.
    """
    location = await linking.connect_callback(
        runtime, session, code=code, configuration_id=configurationId, next_url=next
    )
    return RedirectResponse(location, status_code=302)


@router.get("/connect/vercel/link", name="vercel_connect_link", include_in_schema=False, dependencies=ANONYMOUS)
async def link_page(session: str = Query("")) -> Response:
    """No web app ships with Patchbay: the page says how to finish the link with an API key."""
    token = html.escape(session)
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>Link Vercel</title></head>
<body><h1>Finish linking your Vercel account</h1>
<p>Within 10 minutes, an admin of the organization calls, with a personal API key:</p>
<pre>POST /api/vercel/connect/complete/
{{"session": "{token}", "organization_id": "&lt;organization uuid&gt;", "team_id": &lt;project id&gt;}}</pre>
</body></html>"""
    return HTMLResponse(body, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.post(
    "/api/vercel/connect/complete",
    name="vercel_connect_complete",
    status_code=201,
    response_model=ConnectCompleted,
    summary="Finish linking an existing Vercel account (organization admin, organization_integration:write).",
)
async def connect_complete(body: ConnectComplete, ctx: UserContext = Depends(link_caller)) -> Response:
    """Finish linking an existing Vercel account to an organization. Needs an organization admin's key
    with `organization_integration:write`.
    """
    return JSONResponse(await linking.complete_link(ctx, body), status_code=201)
