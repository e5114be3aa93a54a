"""Linking an existing Vercel account to a Patchbay organization: the OAuth-style callback (a
single-use link session) and the signed-in user's completion."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode, urlparse

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.repository import AccountRepository
from patchbay.integration import events
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import (
    APIError,
    PermissionDenied,
    ValidationError,
)
from patchbay.kit.provider_errors import UpstreamError
from patchbay.models import Integration, MembershipLevel, OrganizationIntegration, Project
from patchbay.providers.base import EnvironmentTokens
from patchbay.providers.vercel import KIND as VERCEL
from patchbay.providers.vercel.client import VercelClient
from patchbay.providers.vercel.resources import push_resource
from patchbay.runtime import Runtime
from patchbay.tenancy.context import UserContext
from patchbay.vercel.repository import VercelRepository
from patchbay.vercel.schemas import ConnectComplete
from patchbay.vercel.service import (
    ALLOWED_NEXT_HOSTS,
    ALREADY_LINKED,
    CALLBACK_PATH,
    LINK_PAGE_PATH,
    LINK_SESSION_TTL,
    SESSION_INVALID,
    SESSION_USED,
    _aware,
    _client_credentials,
    _now,
)

log = logging.getLogger(__name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _safe_next(url: str | None) -> str:
    """Only back to Vercel: anything else would make the callback an open redirect."""
    if not url:
        return ""
    try:
        parsed = urlparse(url)
    except ValueError:
        return ""
    if parsed.scheme != "https" or (parsed.hostname or "") not in ALLOWED_NEXT_HOSTS:
        return ""
    return url


async def connect_callback(
    runtime: Runtime,
    session: AsyncSession,
    *,
    code: str | None,
    configuration_id: str | None,
    next_url: str | None,
) -> str:
    """Exchanges Vercel's code and parks the result in a link session; returns where to send the browser."""
    if not code:
        raise ValidationError("Missing code parameter", attr="code")
    client_id, client_secret = _client_credentials(runtime)
    exchange = await VercelClient(runtime.settings).exchange_code(
        code=code,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=runtime.settings.site_origin + CALLBACK_PATH,
    )
    token = secrets.token_urlsafe(32)
    payload = runtime.keyring.encrypt_json(
        {
            "access_token": exchange.access_token,
            "token_type": exchange.token_type,
            "installation_id": exchange.installation_id,
            "user_id": exchange.user_id,
            "team_id": exchange.team_id,
            "configuration_id": configuration_id or "",
            "next_url": _safe_next(next_url),
        }
    )
    await VercelRepository(session).create_link_session(_hash(token), payload, _now(), LINK_SESSION_TTL)
    await session.commit()
    log.info("vercel link session created for installation %s", exchange.installation_id)
    return f"{LINK_PAGE_PATH}?{urlencode({'session': token})}"


async def _installation_orphaned(runtime: Runtime, row: OrganizationIntegration) -> bool:
    """True only when Vercel says it no longer knows the installation (401/403/404); an outage or a
    missing token keeps the existing link."""
    try:
        access_token = (runtime.keyring.decrypt_json(row.sensitive_config).get("credentials") or {}).get(
            "access_token"
        )
    except UndecryptableSecret:
        return False
    if not access_token or not row.integration_id:
        return False
    try:
        alive = await VercelClient(runtime.settings).installation_alive(
            access_token=access_token,
            installation_id=row.integration_id,
            team_id=(row.config or {}).get("vercel_team_id"),
        )
    except APIError:
        return False
    return not alive


async def _linkable_project(repo: VercelRepository, organization_id: uuid.UUID, project_id: int) -> Project:
    if await repo.org_vercel_integration(organization_id) is not None:
        raise ValidationError(ALREADY_LINKED)
    project = (
        await repo.project_in_organization(organization_id, project_id) if 0 < project_id < 2**31 else None
    )
    if project is None:
        raise ValidationError("The selected project does not belong to this organization.")
    if await repo.project_has_vercel(project.id):
        raise ValidationError("This project already has a Vercel integration.")
    return project


async def complete_link(ctx: UserContext, body: ConnectComplete) -> dict[str, Any]:
    session = ctx.session
    runtime = ctx.runtime
    project_id = body.team_id if body.team_id is not None else body.project_id
    if project_id is None:
        raise ValidationError("This field is required.", code="required", attr="team_id")
    organization_id = body.organization_id

    membership = await AccountRepository(session).membership(organization_id, ctx.user.id)
    if membership is None:
        raise PermissionDenied("You are not a member of this organization.")
    if membership.level < MembershipLevel.ADMIN:
        raise PermissionDenied("You must be an admin or owner to link this organization.")
    subject = ctx.subject
    if subject.scoped_organizations is not None and str(organization_id) not in subject.scoped_organizations:
        raise PermissionDenied(
            f"API key does not have access to the requested organization: ID {organization_id}."
        )
    if subject.scoped_projects is not None and project_id not in subject.scoped_projects:
        raise PermissionDenied(f"API key does not have access to the requested project: ID {project_id}.")

    repo = VercelRepository(session)
    token_hash = _hash(body.session)
    link = await repo.link_session(token_hash)
    now = _now()
    if link is None or _aware(link.expires_at) <= now:
        raise ValidationError(SESSION_INVALID)
    if link.used_at is not None:
        raise ValidationError(SESSION_USED)
    try:
        data = runtime.keyring.decrypt_json(link.payload)
    except UndecryptableSecret:
        raise ValidationError(SESSION_INVALID) from None

    existing = await repo.org_vercel_integration(organization_id)
    if existing is not None:
        if await _installation_orphaned(runtime, existing):
            log.info("vercel installation %s is gone on Vercel: replacing its link", existing.integration_id)
            await repo.remove_installation(existing)
            await events.integration_changed(session, events.ORG_INTEGRATION_DELETED, existing)
            await session.commit()
        else:
            raise ValidationError(ALREADY_LINKED)

    # From here on, one link at a time per organization: the checks below stay true until commit.
    await repo.serialize_on(f"vercel-link:{organization_id}")
    try:
        project = await _linkable_project(repo, organization_id, project_id)
    except APIError:
        await session.rollback()  # releases the lock now rather than when the request ends
        raise
    if not await repo.consume_link_session(token_hash, _now()):
        await session.rollback()
        raise ValidationError(SESSION_USED)
    try:
        linked = await repo.add(
            OrganizationIntegration(
                organization_id=organization_id,
                kind=VERCEL,
                integration_id=data["installation_id"],
                config={
                    "type": "connectable",
                    "vercel_team_id": data.get("team_id"),
                    "vercel_user_id": data["user_id"],
                    "configuration_id": data.get("configuration_id"),
                    "user_mappings": {data["user_id"]: ctx.user.id},
                },
                sensitive_config=runtime.keyring.encrypt_json(
                    {"credentials": {"access_token": data["access_token"], "token_type": data["token_type"]}}
                ),
                created_by_id=ctx.user.id,
            )
        )
        resource = await repo.add(
            Integration(
                project_id=project.id,
                kind=VERCEL,
                integration_id=str(project.id),
                config={"type": "connectable"},
                sensitive_config="",
                errors="",
                created_by_id=ctx.user.id,
            )
        )
        await events.integration_changed(session, events.ORG_INTEGRATION_CREATED, linked)
        await events.integration_changed(session, events.INTEGRATION_CREATED, resource)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise ValidationError(ALREADY_LINKED) from None
    organization_name = (await AccountRepository(session).organization(organization_id)).name  # type: ignore[union-attr]
    log.info("vercel installation %s linked to organization %s", data["installation_id"], organization_id)

    synced = True
    try:
        await push_resource(
            runtime.settings,
            access_token=data["access_token"],
            installation_id=data["installation_id"],
            team_id=data.get("team_id"),
            resource_id=str(resource.id),
            name=project.name,
            tokens=EnvironmentTokens(project.api_token, project.api_token, project.api_token),
        )
    except (APIError, UpstreamError) as exc:
        synced = False
        log.warning("vercel resource import after linking failed: %s", type(exc).__name__)
    return {
        "status": "linked",
        "organization_id": str(organization_id),
        "organization_name": organization_name,
        "next_url": data.get("next_url") or "",
        "secrets_synced": synced,
    }
