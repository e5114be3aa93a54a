"""Rules of the OAuth flow: starting an authorization, validating the `state`, finishing with a code
(PostHog's POST-with-code and the browser callback alike)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from patchbay.auth.service import AuthSubject, AuthUser
from patchbay.integration import service as integrations
from patchbay.integration.kinds import BuiltIntegration
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import PermissionDenied, ValidationError
from patchbay.models import MembershipLevel, OAuthState
from patchbay.oauth import exchange
from patchbay.oauth.repository import OAuthStateRepository, load_user
from patchbay.providers.catalog import OAuthProvider, get_provider
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext, ProjectRef
from patchbay.tenancy.repository import project_with_level

STATE_TTL = timedelta(minutes=10)
STATE_COOKIE = "ph_oauth_state"
DEFAULT_NEXT = "/"

UNKNOWN_STATE = "This connection attempt is not recognised. Please start connecting again."
EXPIRED_STATE = "This connection attempt expired before it could finish. Please try connecting again."
USED_STATE = "This connection attempt was already used. Please start connecting again."
OTHER_KIND = (
    "This connection attempt was started for another integration kind. Please start connecting again."
)
OTHER_USER = "This connection attempt was started by another user. Please start connecting again."
OTHER_PROJECT = "This connection attempt was started for another project. Please start connecting again."


def _now() -> datetime:
    return datetime.now(UTC)


# --- next ---------------------------------------------------------------------------------------------
def validate_next(runtime: Runtime, next_url: str | None) -> str:
    """A relative path on the site, or a URL on the site's origin or an allowed origin."""
    if not next_url:
        return DEFAULT_NEXT
    value = next_url.strip()
    bad = ValidationError(
        "next must be a relative path starting with / or a URL on an allowed origin", attr="next"
    )
    if any(ch in value for ch in ("\\", "\r", "\n", "\t")) or any(ord(ch) < 32 for ch in value):
        raise bad
    parts = urlsplit(value)
    if not parts.scheme and not parts.netloc:
        if not value.startswith("/") or value.startswith("//"):
            raise bad
        return value
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise bad
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    allowed = {runtime.settings.site_origin.lower(), *(o.lower() for o in runtime.settings.allowed_origins())}
    if origin not in allowed:
        raise bad
    return value


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k not in params] + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


# --- authorize ---------------------------------------------------------------------------------------------
def provider_for(kind: str | None) -> OAuthProvider:
    provider = get_provider(kind or "")
    if provider is None:
        raise ValidationError("Kind not supported")
    return provider


@dataclass
class AuthorizationStart:
    location: str
    state_token: str
    secure_cookie: bool


async def start_authorization(
    ctx: ProjectContext, kind: str | None, next_url: str | None
) -> AuthorizationStart:
    runtime = ctx.runtime
    provider = provider_for(kind)
    exchange.client_credentials(runtime.settings, provider.kind)  # "Kind not configured"
    next_value = validate_next(runtime, next_url)
    token = os.urandom(33).hex()
    verifier = exchange.new_pkce_verifier() if provider.pkce else None
    secret = runtime.keyring.encrypt_json({"code_verifier": verifier}) if verifier else ""
    now = _now()
    async with runtime.db.transaction() as session:
        await OAuthStateRepository(session).insert(
            OAuthState(
                token=token,
                kind=provider.kind,
                user_id=ctx.user.id,
                project_id=ctx.project.id,
                next_url=next_value,
                secret=secret,
                created_at=now,
                expires_at=now + STATE_TTL,
            )
        )
    state = exchange.state_string(next_value, token, ctx.project.id)
    location = exchange.authorize_url(runtime.settings, provider, state, verifier)
    return AuthorizationStart(location, token, runtime.settings.site_origin.startswith("https://"))


# --- state checks ---------------------------------------------------------------------------------------------
def state_token(raw_state: Any) -> str:
    """The token inside PostHog's state string (`next=…&token=…&team_id=…`), or a bare token."""
    if not isinstance(raw_state, str) or not raw_state.strip():
        raise ValidationError("A state token must be provided", attr="state")
    raw = raw_state.strip()
    if "=" not in raw:
        return raw
    token = parse_qs(raw).get("token", [""])[0]
    if not token:
        raise ValidationError(UNKNOWN_STATE, attr="state")
    return token


async def load_state(runtime: Runtime, token: str, kind: str) -> OAuthState:
    async with runtime.db.session() as session:
        row = await OAuthStateRepository(session).get(token)
    if row is None:
        raise ValidationError(UNKNOWN_STATE, attr="state")
    if row.used_at is not None:
        raise ValidationError(USED_STATE, attr="state")
    if row.expires_at <= _now():
        raise ValidationError(EXPIRED_STATE, attr="state")
    if row.kind != kind:
        raise ValidationError(OTHER_KIND, attr="state")
    return row


async def consume_state(runtime: Runtime, row: OAuthState) -> str | None:
    """Mark the state used (first caller wins) and hand back its PKCE verifier."""
    async with runtime.db.transaction() as session:
        won = await OAuthStateRepository(session).consume(row.token, _now())
    if not won:
        # Lost a race with another request for the same state, or it expired in between.
        raise ValidationError(USED_STATE if row.expires_at > _now() else EXPIRED_STATE, attr="state")
    if not row.secret:
        return None
    try:
        verifier = runtime.keyring.decrypt_json(row.secret).get("code_verifier")
    except UndecryptableSecret:
        raise ValidationError(UNKNOWN_STATE, attr="state") from None
    return str(verifier) if verifier else None


# --- finishing ---------------------------------------------------------------------------------------------
async def build_from_code(ctx: ProjectContext, kind: str, config: dict[str, Any]) -> BuiltIntegration:
    """The builder behind `POST …/integrations/` for every OAuth kind: {"code", "state"} in,
    the provider's account out (stored by the integration domain's upsert)."""
    provider = provider_for(kind)
    exchange.client_credentials(ctx.runtime.settings, provider.kind)  # "Kind not configured"
    token = state_token(config.get("state"))
    code = config.get("code")
    row = await load_state(ctx.runtime, token, provider.kind)
    if row.user_id != ctx.user.id:
        raise ValidationError(OTHER_USER, attr="state")
    if row.project_id != ctx.project.id:
        raise ValidationError(OTHER_PROJECT, attr="state")
    if not isinstance(code, str) or not code:
        raise ValidationError("An OAuth code must be provided", attr="code")
    verifier = await consume_state(ctx.runtime, row)
    account = await exchange.exchange_code(ctx.runtime.settings, provider, code, verifier)
    return BuiltIntegration(account.integration_id, account.config, account.secrets)


def builder_for_kind(
    kind: str,
) -> Callable[[ProjectContext, dict[str, Any]], Awaitable[BuiltIntegration]]:  # pragma: no mutate block
    async def build(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
        return await build_from_code(ctx, kind, config if isinstance(config, dict) else {})

    build.__name__ = f"build_{kind.replace('-', '_')}_from_code"
    return build


async def context_for_state(runtime: Runtime, session: Any, row: OAuthState) -> ProjectContext:
    """The project context of the user who started the attempt (the browser callback has no key)."""
    user = await load_user(session, row.user_id)
    project = await project_with_level(session, row.project_id, row.user_id)
    if user is None or not user.is_active or project is None or project["level"] is None:
        raise PermissionDenied("You don't have access to the project.")
    subject = AuthSubject(
        user=AuthUser(
            id=user.id,
            uuid=user.uuid,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            distinct_id=user.distinct_id,
            is_email_verified=user.is_email_verified,
            current_organization_id=user.current_organization_id,
            current_project_id=user.current_project_id,
        ),
        key_id="",
        scopes=["integration:write"],
        scoped_projects=[row.project_id],
        scoped_organizations=None,
    )
    ref = ProjectRef(
        id=project["id"],
        organization_id=project["organization_id"],
        name=project["name"],
        api_token=project["api_token"],
    )
    level = min(int(project["level"]), int(MembershipLevel.ADMIN))
    return ProjectContext(runtime=runtime, session=session, subject=subject, project=ref, level=level)


async def browser_callback(runtime: Runtime, kind: str, params: dict[str, str]) -> str:
    """`/integrations/{kind}/callback`: finish the attempt and answer where to send the browser."""
    provider = provider_for(kind)
    token = state_token(params.get("state"))
    row = await load_state(runtime, token, provider.kind)
    if params.get("error"):
        await consume_state(runtime, row)
        return with_query(row.next_url or DEFAULT_NEXT, error=str(params["error"])[:200])
    async with runtime.db.session() as session:
        ctx = await context_for_state(runtime, session, row)
        created = await integrations.create_integration(
            ctx, provider.kind, {"code": params.get("code", ""), "state": params.get("state", "")}
        )
    return with_query(row.next_url or DEFAULT_NEXT, integration_id=str(created["id"]))
