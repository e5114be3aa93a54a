"""Rules of connect sessions: creating one (API key), and opening one from its link (no key: the
token is the capability and names the project and the user the connection is made as)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from patchbay.connect.kinds import CREDENTIAL_CARDS, KindCard, card, configured_kinds, is_configured
from patchbay.connect.repository import ConnectSessionRepository
from patchbay.connect.schemas import ConnectSessionCreate
from patchbay.integration import service as integrations
from patchbay.integration.kind_names import ALL_KINDS
from patchbay.kit.convertors import INT32_MAX
from patchbay.kit.errors import PermissionDenied, ValidationError
from patchbay.models import ConnectSession, Integration
from patchbay.oauth.service import validate_next
from patchbay.providers import registry
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext

TOKEN_PREFIX = "pcs_"
SESSION_TTL = timedelta(minutes=30)

NEXT_MALFORMED = "next must be a relative path starting with / or a URL on an allowed origin"
LINK_INVALID = "This link is not valid. Ask for a new link to connect."
LINK_EXPIRED = "This link has expired. Links to connect last 30 minutes: ask for a new one."
LINK_USED = "This link was already used to make a connection. Ask for a new link to connect again."


class PageProblem(Exception):
    """What a connect page says instead of going on: a status, a heading, an explanation, and
    where to try again when trying again can help."""

    def __init__(self, status: int, title: str, message: str, retry_url: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.retry_url = retry_url


class FormProblem(Exception):
    """A credential form to show again, with a message next to each field that needs one."""

    def __init__(self, kind: str, errors: dict[str, str], values: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values()), ""))
        self.kind = kind
        self.errors = errors
        self.values = values


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def page_url(runtime: Runtime, token: str) -> str:
    return f"{runtime.settings.site_origin}/connect/{token}"


# --- creating a session (API) ---------------------------------------------------------------------
def allowed_origins(runtime: Runtime) -> set[str]:
    settings = runtime.settings
    return {settings.site_origin.lower(), *(o.lower() for o in settings.allowed_origins())}


def validate_origin(runtime: Runtime, value: str | None) -> str:
    """An origin (scheme://host[:port], nothing after it) that may receive a popup's result."""
    if value is None or not value.strip():
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or origin not in allowed_origins(runtime)
    ):
        raise ValidationError(
            "origin must be the site's origin or one of PATCHBAY_ALLOWED_REDIRECT_ORIGINS", attr="origin"
        )
    return origin


def _requested_kinds(runtime: Runtime, requested: list[str]) -> list[str]:
    if not requested:
        raise ValidationError(
            "Name at least one kind, or leave kinds out for every configured kind.", attr="kinds"
        )
    kinds: list[str] = []
    for kind in requested:
        if kind not in ALL_KINDS:
            raise ValidationError(f'"{kind}" is not a valid choice.', code="invalid_choice", attr="kinds")
        if kind not in registry.oauth_providers() and kind not in CREDENTIAL_CARDS:
            raise ValidationError(f"Kind not supported: {kind}", attr="kinds")
        if not is_configured(runtime.settings, kind):
            raise ValidationError(f"Kind not configured: {kind}", attr="kinds")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


async def _reconnect_target(ctx: ProjectContext, pk: int) -> Integration:
    # Ids outside the 32-bit key column name no row (and must not reach the database as a value).
    target = await integrations.repository(ctx).get_model(pk) if 0 < pk <= INT32_MAX else None
    if target is None:
        raise ValidationError("No integration with this id in the project.", attr="integration_id")
    if not ctx.is_project_admin:
        raise PermissionDenied("Reconnecting an existing integration requires project admin access.")
    if target.kind not in registry.oauth_providers() and target.kind not in CREDENTIAL_CARDS:
        raise ValidationError(f"Kind not supported: {target.kind}", attr="integration_id")
    if not is_configured(ctx.runtime.settings, target.kind):
        raise ValidationError(f"Kind not configured: {target.kind}", attr="integration_id")
    return target


async def create_session(ctx: ProjectContext, body: ConnectSessionCreate) -> dict[str, Any]:
    runtime = ctx.runtime
    try:
        next_value = validate_next(runtime, body.next)  # the OAuth `next` rule, attr "next"
    except ValueError:  # urlsplit's refusal of a malformed host (an unclosed IPv6 bracket)
        raise ValidationError(NEXT_MALFORMED, attr="next") from None
    origin = validate_origin(runtime, body.origin)
    target = await _reconnect_target(ctx, body.integration_id) if body.integration_id is not None else None
    if body.kinds is not None:
        kinds = _requested_kinds(runtime, body.kinds)
        if target is not None and kinds != [target.kind]:
            raise ValidationError(
                f"A reconnect offers only the integration's own kind ({target.kind}).", attr="kinds"
            )
    else:
        kinds = [target.kind] if target is not None else configured_kinds(runtime.settings)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    row = ConnectSession(
        token_hash=token_hash(token),
        project_id=ctx.project.id,
        created_by_id=ctx.user.id,
        kinds=kinds,
        next_url=next_value,
        origin=origin,
        integration_pk=target.id if target is not None else None,
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    await ConnectSessionRepository(ctx.session).insert(row)
    await ctx.session.commit()
    return {"token": token, "url": page_url(runtime, token), "expires_at": row.expires_at}


# --- opening a session (pages) ----------------------------------------------------------------------
@dataclass
class OpenSession:
    row: ConnectSession
    token: str
    cards: list[KindCard] = field(default_factory=list)

    def offers(self, kind: str) -> bool:
        return kind in self.row.kinds


def usable(row: ConnectSession) -> None:
    if row.used_at is not None:
        raise PageProblem(410, "This link was already used", LINK_USED)
    if row.expires_at <= _now():
        raise PageProblem(410, "This link has expired", LINK_EXPIRED)


async def open_session(runtime: Runtime, token: str) -> OpenSession:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise PageProblem(404, "This link is not valid", LINK_INVALID)
    async with runtime.db.session() as session:
        row = await ConnectSessionRepository(session).by_token_hash(token_hash(token))
    if row is None:
        raise PageProblem(404, "This link is not valid", LINK_INVALID)
    usable(row)
    offered = [card(k) for k in row.kinds if is_configured(runtime.settings, k)]
    return OpenSession(row, token, offered)


def opener_origin(runtime: Runtime, row: ConnectSession) -> str:
    """The only origin a popup posts its result to: the one the session names, else `next`'s."""
    if row.origin:
        return row.origin
    parts = urlsplit(row.next_url)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}".lower()
    return runtime.settings.site_origin
