"""Rules of the Vercel integration: marketplace installations (Vercel's OIDC JWT), webhooks
(x-vercel-signature) and linking an existing Vercel account to an organization."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.service import AccountError, create_organization, ensure_user
from patchbay.integration import events
from patchbay.kit.errors import (
    NotFound,
    PermissionDenied,
    ValidationError,
)
from patchbay.models import OrganizationIntegration
from patchbay.providers.vercel import KIND as VERCEL
from patchbay.providers.vercel.oidc import AuthType, JWKSCache, VercelClaims, VercelTokenVerifier
from patchbay.runtime import Runtime
from patchbay.vercel.repository import VercelRepository
from patchbay.vercel.schemas import InstallationUpsert

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
        raise ValidationError(
            "Kind not configured. Set PATCHBAY_VERCEL_CLIENT_ID and PATCHBAY_VERCEL_CLIENT_SECRET "
            "on the Patchbay server.",
            attr="kind",
        )
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
        installation = await repo.add(
            OrganizationIntegration(
                organization_id=organization.id,
                kind=VERCEL,
                integration_id=installation_id,
                config=config,
                sensitive_config=sensitive,
                created_by_id=user.id,
            )
        )
        await events.integration_changed(session, events.ORG_INTEGRATION_CREATED, installation)
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
        await events.integration_changed(session, events.ORG_INTEGRATION_DELETED, row)
    await session.commit()
    log.info("vercel installation %s deleted", installation_id)
    return {"finalized": True}
