"""Rules of the OAuth flow: starting an authorization, validating the `state`, finishing with a code
(PostHog's POST-with-code and the browser callback alike)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from patchbay.integration import service as integrations
from patchbay.integration.kind_names import known_kinds
from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit import browser_binding
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import ValidationError
from patchbay.models import OAuthState
from patchbay.oauth import app_install, authorize, exchange
from patchbay.oauth.repository import OAuthStateRepository
from patchbay.oauth.schemas import OAuthCodeConfig
from patchbay.providers import registry
from patchbay.providers.catalog import OAuthProvider
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.service import project_context_for_user

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
OTHER_BROWSER = (
    "This connection attempt was started in another browser. "
    "Finish it in the browser where you started, or start connecting again here."
)


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
    if "\\" in value or any(ord(ch) < 32 for ch in value):  # control characters: CR, LF, tab …
        raise bad
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a malformed port or host ("http://[::1") raises here
    except ValueError:
        raise bad from None
    if not parts.scheme:
        # A path on the site; "//host" (a host without a scheme) is another site.
        if parts.netloc or not value.startswith("/"):
            raise bad
        return value
    if parts.scheme not in ("http", "https"):
        raise bad
    # The origin compared below includes any user part, so these are refused there too (equivalent).
    if not parts.netloc or "@" in parts.netloc:  # pragma: no mutate
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
    provider = registry.oauth_provider(kind or "")  # pragma: no mutate ("XXXX" is as unknown)
    if provider is None:
        raise ValidationError("Kind not supported")
    return provider


def provider_to_authorize(kind: str | None) -> OAuthProvider:
    """authorize/'s `kind`. PostHog answers every refusal "Kind not supported"; the same words
    start each message here (clients may match on them), followed by what to do instead."""
    if not kind:
        raise ValidationError(
            "Kind not supported. Pass the OAuth kind to connect as the `kind` query parameter, "
            "e.g. ?kind=slack.",
            attr="kind",
        )
    provider = registry.oauth_provider(kind)
    if provider is not None:
        return provider
    if kind in known_kinds():
        raise ValidationError(
            f"Kind not supported. '{kind}' does not connect through OAuth: create it with "
            "POST …/integrations/ and its config instead.",
            attr="kind",
        )
    raise ValidationError(
        f"Kind not supported. '{kind}' is not an OAuth kind; OAuth kinds are: {', '.join(sorted(registry.oauth_providers()))}.",
        attr="kind",
    )


@dataclass
class AuthorizationStart:
    location: str
    state_token: str
    secure_cookie: bool
    # The starting browser's binding value (cookie STATE_COOKIE); the state keeps its hash.
    browser_value: str = ""


@dataclass(frozen=True)
class ConnectLink:
    """An attempt started from a hosted connect page (patchbay.connect)."""

    session_id: int
    popup: bool
    carry: dict[str, Any]  # kept encrypted with the state (e.g. the page's token, to offer a retry)


async def start_authorization(
    ctx: ProjectContext, kind: str | None, next_url: str | None, browser_cookie: str | None = None
) -> AuthorizationStart:
    installer = registry.app_install(kind or "")  # pragma: no mutate ("XXXX" is as unknown as "")
    if kind and installer is not None:  # GitHub: the app's install page instead of a consent page
        return await app_install.start(ctx, kind, installer, validate_next(ctx.runtime, next_url), browser_cookie)
    provider = provider_to_authorize(kind)
    authorize.client_credentials(ctx.runtime.settings, provider.kind)  # "Kind not configured"
    next_value = validate_next(ctx.runtime, next_url)
    return await begin_attempt(ctx.runtime, provider, ctx.user.id, ctx.project.id, next_value, browser_cookie)


async def begin_attempt(
    runtime: Runtime,
    provider: OAuthProvider,
    user_id: int,
    project_id: int,
    next_value: str,
    browser_cookie: str | None,
    connect: ConnectLink | None = None,
) -> AuthorizationStart:
    """Store a state record bound to the user, project and starting browser; answer where to send
    the browser."""
    token = os.urandom(33).hex()  # pragma: no mutate (a longer token is as good)
    browser = browser_binding.value_for(browser_cookie)
    # A verifier sent to a provider without PKCE is ignored by it (equivalent mutants).
    verifier = authorize.new_pkce_verifier() if provider.pkce else None  # pragma: no mutate
    kept: dict[str, Any] = {**(connect.carry if connect else {})}
    if verifier:
        kept["code_verifier"] = verifier
    # An encrypted empty object reads back as no verifier, like "" (equivalent mutants).
    secret = runtime.keyring.encrypt_json(kept) if kept else ""  # pragma: no mutate
    now = _now()
    async with runtime.db.transaction() as session:
        await OAuthStateRepository(session).insert(
            OAuthState(
                token=token,
                kind=provider.kind,
                user_id=user_id,
                project_id=project_id,
                next_url=next_value,
                secret=secret,
                created_at=now,  # pragma: no mutate (the column's default is the same moment)
                expires_at=now + STATE_TTL,
                browser_binding=browser_binding.digest(browser),
                connect_session_id=connect.session_id if connect else None,
                connect_popup=bool(connect and connect.popup),
            )
        )
    state = authorize.state_string(next_value, token, project_id)
    location = authorize.authorize_url(runtime.settings, provider, state, verifier)
    return AuthorizationStart(location, token, runtime.settings.site_origin.startswith("https://"), browser)


# --- state checks ---------------------------------------------------------------------------------------------
def state_token(raw_state: Any) -> str:
    """The token inside PostHog's state string (`next=…&token=…&team_id=…`), or a bare token."""
    if not isinstance(raw_state, str) or not raw_state.strip():
        raise ValidationError("A state token must be provided", attr="state")
    raw = raw_state.strip()
    if "=" not in raw:
        return raw
    token = parse_qs(raw).get("token", [""])[0]  # pragma: no mutate ("XXXX" is as unknown)
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
    if row.expires_at <= _now():  # pragma: no mutate (< differs at one microsecond)
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
    authorize.client_credentials(ctx.runtime.settings, provider.kind)  # "Kind not configured"
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
    return BuiltIntegration(account.integration_id, account.config, account.secrets, verified=True)


def builder_for_kind(
    kind: str,
) -> Callable[[ProjectContext, dict[str, Any]], Awaitable[BuiltIntegration]]:  # pragma: no mutate block
    async def build(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
        return await build_from_code(ctx, kind, config if isinstance(config, dict) else {})

    build.__name__ = f"build_{kind.replace('-', '_')}_from_code"
    return build


# Every OAuth kind (catalogue and provider packages) is created from {"code", "state"}.
for _kind in registry.oauth_providers():
    kind_builder(_kind, config=OAuthCodeConfig)(builder_for_kind(_kind))


async def browser_callback(
    runtime: Runtime, kind: str, params: dict[str, str], browser_cookie: str | None = None
) -> str:
    """`/integrations/{kind}/callback`: finish the attempt and answer where to send the browser."""
    installed = app_install.callback_config(kind, params)
    if installed is None:
        provider_for(kind)  # an unknown kind is refused before any state is read
    token = state_token(params.get("state"))
    row = await load_state(runtime, token, kind)
    if not browser_binding.matches(row.browser_binding, browser_cookie):
        raise ValidationError(OTHER_BROWSER, attr="state")
    if params.get("error"):
        await consume_state(runtime, row)
        return with_query(row.next_url or DEFAULT_NEXT, error=str(params["error"])[:200])  # pragma: no mutate
    async with runtime.db.session() as session:
        # The user who started the attempt acts (the browser callback carries no key).
        ctx = await project_context_for_user(
            runtime, session, user_id=row.user_id, project_id=row.project_id,
            # The stand-in subject's scopes are not checked on this path (the create checks none; the
            # project and the membership are: tests/oauth/test_callback_context.py).
            scopes=["integration:write"],  # pragma: no mutate
        )  # fmt: skip
        code = params.get("code", "")  # pragma: no mutate (without a code, "" and None are refused alike)
        # `state` is there: state_token() refused a callback without one.
        config = installed if installed is not None else {"code": code, "state": params["state"]}
        created = await integrations.create_integration(ctx, kind, config)
    return with_query(row.next_url or DEFAULT_NEXT, integration_id=str(created["id"]))
