"""Rules of the Vercel integration: marketplace installations (Vercel's OIDC JWT), webhooks
(x-vercel-signature) and linking an existing Vercel account to an organization."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlparse

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.repository import AccountRepository
from patchbay.account.service import AccountError, create_organization, ensure_user
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import (
    APIError,
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from patchbay.models import Integration, MembershipLevel, OrganizationIntegration, Project
from patchbay.org_integration.repository import VERCEL
from patchbay.runtime import Runtime
from patchbay.tenancy.context import UserContext
from patchbay.vercel.client import VercelAuthError, VercelClient, VercelNotFound
from patchbay.vercel.oidc import AuthType, JWKSCache, VercelClaims, VercelTokenVerifier
from patchbay.vercel.repository import VercelRepository
from patchbay.vercel.resources import EnvironmentTokens, push_resource
from patchbay.vercel.schemas import ConnectComplete, InstallationUpsert
from patchbay.vercel.signature import signature_valid

log = logging.getLogger(__name__)

INSTALLATION_ID = re.compile(r"^icfg_[A-Za-z0-9]{24}$")
LINK_SESSION_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/connect/vercel/callback"
LINK_PAGE_PATH = "/connect/vercel/link"
ALLOWED_NEXT_HOSTS = frozenset({"vercel.com", "www.vercel.com"})
REMOVED_EVENT = "integration-configuration.removed"

SESSION_INVALID = "Session expired or invalid. Please try linking again from Vercel."
SESSION_USED = "Session already used. Please try linking again from Vercel."
ALREADY_LINKED = (
    "This organization already has a Vercel integration. "
    "Please unlink the existing one first or choose a different organization."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def validate_installation_id(installation_id: str) -> str:
    if not INSTALLATION_ID.match(installation_id):
        raise ValidationError("Invalid installation_id format.", attr="installation_id")
    return installation_id


def _client_credentials(runtime: Runtime) -> tuple[str, str]:
    client_id = runtime.settings.kind_setting("vercel", "CLIENT_ID")
    client_secret = runtime.settings.kind_setting("vercel", "CLIENT_SECRET")
    if not client_id or not client_secret:
        log.error("PATCHBAY_VERCEL_CLIENT_ID / PATCHBAY_VERCEL_CLIENT_SECRET are not set")
        raise ValidationError("Kind not configured", attr="kind")
    return client_id, client_secret


# --- marketplace authentication -------------------------------------------------------------------


def verifier(runtime: Runtime) -> VercelTokenVerifier:
    jwks = JWKSCache(runtime.cache, runtime.settings.vercel_jwks_url, timeout=runtime.settings.http_timeout)
    return VercelTokenVerifier(jwks, runtime.settings.kind_setting("vercel", "CLIENT_ID"))


async def authenticate_marketplace(
    runtime: Runtime,
    *,
    authorization: str | None,
    auth_header: str | None,
    installation_id: str,
    action: str,
    allowed: tuple[AuthType, ...],
    admin_only: bool,
) -> VercelClaims:
    """Vercel's OIDC token, then what the action allows: the auth type, the user's role, and that
    the token was issued for the installation of the URL."""
    claims = await verifier(runtime).verify(authorization, auth_header)
    if claims.auth_type not in allowed:
        raise PermissionDenied(
            f"Auth type '{claims.auth_type}' not allowed for this endpoint. Supported types: {', '.join(allowed)}"
        )
    if claims.auth_type == "user" and admin_only and claims.user_role != "ADMIN":
        raise PermissionDenied(f"Action '{action}' requires ADMIN role. Current role: {claims.user_role}")
    if claims.installation_id != installation_id:
        raise PermissionDenied("Installation ID mismatch")
    return claims


# --- marketplace installations --------------------------------------------------------------------


async def upsert_installation(
    runtime: Runtime,
    session: AsyncSession,
    installation_id: str,
    body: InstallationUpsert,
    claims: VercelClaims,
) -> None:
    validate_installation_id(installation_id)
    repo = VercelRepository(session)
    config: dict[str, Any] = {
        "scopes": body.scopes,
        "acceptedPolicies": body.acceptedPolicies,
        "account": {
            "url": body.account.url,
            "name": body.account.name,
            "contact": {"email": body.account.contact.email, "name": body.account.contact.name},
        },
    }
    sensitive = runtime.keyring.encrypt_json({"credentials": body.credentials.model_dump()})

    await repo.serialize_on(f"vercel-installation:{installation_id}")
    existing = await repo.installation(installation_id)
    if existing is not None:
        previous = existing.config or {}
        for kept in ("user_mappings", "billing_plan_id", "environment_mapping"):
            if kept in previous:
                config[kept] = previous[kept]
        existing.config = config
        existing.sensitive_config = sensitive
        existing.updated_at = _now()
        await session.commit()
        log.info("vercel installation %s updated", installation_id)
        return

    name = (body.account.name or "").strip()[:64] or f"Vercel Installation {installation_id}"
    try:
        user, created = await ensure_user(
            session, body.account.contact.email, first_name=(body.account.contact.name or "")[:150]
        )
        # The contact becomes the new organization's owner, whether the user is new or known.
        organization = await create_organization(session, name, user)
        if created and claims.user_id:
            config["user_mappings"] = {claims.user_id: user.id}
        await repo.add(
            OrganizationIntegration(
                organization_id=organization.id,
                kind=VERCEL,
                integration_id=installation_id,
                config=config,
                sensitive_config=sensitive,
                created_by_id=user.id,
            )
        )
        await session.commit()
    except AccountError as exc:
        await session.rollback()
        raise ValidationError(str(exc), attr="account__contact__email") from None
    except IntegrityError:
        await session.rollback()
        raise ValidationError("Something went wrong.", code="unique", attr="validation_error") from None
    log.info("vercel installation %s created organization %s", installation_id, organization.id)


async def get_installation(session: AsyncSession, installation_id: str) -> dict[str, Any]:
    validate_installation_id(installation_id)
    if await VercelRepository(session).installation(installation_id) is None:
        raise NotFound("Installation not found")
    # Billing runs outside Patchbay: there is no plan to report.
    return {}


async def delete_installation(session: AsyncSession, installation_id: str) -> dict[str, Any]:
    validate_installation_id(installation_id)
    repo = VercelRepository(session)
    rows = await repo.installations(installation_id)
    if not rows:
        raise NotFound("Installation not found")
    for row in rows:
        await repo.remove_installation(row)
    await session.commit()
    log.info("vercel installation %s deleted", installation_id)
    return {"finalized": True}


# --- webhooks -------------------------------------------------------------------------------------


async def handle_webhook(
    runtime: Runtime, session: AsyncSession, raw_body: bytes, signature: str | None
) -> dict[str, Any]:
    secret = runtime.settings.kind_setting("vercel", "CLIENT_SECRET")
    if not secret:
        log.error("PATCHBAY_VERCEL_CLIENT_SECRET is not set: Vercel webhooks cannot be verified")
    if not signature_valid(secret, raw_body, signature):
        log.warning("vercel webhook with an invalid signature refused")
        raise AuthenticationFailed("Invalid signature")
    try:
        event = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"JSON parse error - {exc}", code="parse_error") from None
    if not isinstance(event, dict):
        got = "list" if isinstance(event, list) else type(event).__name__
        raise ValidationError(f"Invalid data. Expected a dictionary, but got {got}.")
    event_type = event.get("type")
    raw_payload = event.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    if event_type != REMOVED_EVENT:
        log.info("vercel webhook %s acknowledged", event_type)
        return {"status": "ignored"}
    raw_configuration = payload.get("configuration")
    configuration: dict[str, Any] = raw_configuration if isinstance(raw_configuration, dict) else {}
    installation_id = payload.get("installationId") or configuration.get("id")
    if not isinstance(installation_id, str) or not installation_id:
        raise ValidationError("Missing configurationId", attr="installationId")
    repo = VercelRepository(session)
    rows = await repo.installations(installation_id)
    for row in rows:
        await repo.remove_installation(row)
    await session.commit()
    log.info(
        "vercel webhook removed installation %s (%d organization integrations)", installation_id, len(rows)
    )
    return {"status": "ok"}


# --- linking an existing account ------------------------------------------------------------------


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
        await repo.add(
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
    except (APIError, VercelAuthError, VercelNotFound) as exc:
        synced = False
        log.warning("vercel resource import after linking failed: %s", type(exc).__name__)
    return {
        "status": "linked",
        "organization_id": str(organization_id),
        "organization_name": organization_name,
        "next_url": data.get("next_url") or "",
        "secrets_synced": synced,
    }
