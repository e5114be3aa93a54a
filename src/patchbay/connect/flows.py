"""Making the connection from a connect page: OAuth kinds through the provider and back, kinds
created from credentials through a form. Both use the API's builders and its save, as the
session's creator, and spend the session with the connection they make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from patchbay.connect.kinds import CREDENTIAL_CARDS, KindCard, card
from patchbay.connect.repository import ConnectSessionRepository
from patchbay.connect.service import FormProblem, OpenSession, PageProblem, opener_origin, usable
from patchbay.domain_connect import service as domain_connect
from patchbay.domain_connect.schemas import ApplyUrlRequest
from patchbay.integration import service as integrations
from patchbay.integration.display_name import display_name
from patchbay.integration.kinds import BuiltIntegration, builder_for
from patchbay.kit import browser_binding
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import APIError, ValidationError
from patchbay.models import ConnectSession, Integration, OAuthState
from patchbay.oauth import service as oauth
from patchbay.oauth.repository import OAuthStateRepository
from patchbay.providers.registry import oauth_provider as get_provider
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.service import project_context_for_user

GONE_INTEGRATION = "The connection this link was made to repair no longer exists. Ask for a new link."
DENIED = "You did not allow {name} to connect. Nothing was connected; you can try again."
PROVIDER_ERROR = "{name} answered with the error “{error}”. Nothing was connected; you can try again."


@dataclass
class Connected:
    """A connection made: where the browser goes, and what a popup tells its opener."""

    kind: str
    integration_id: int
    next_url: str
    opener_origin: str
    popup: bool
    dns_url: str | None = None
    dns_provider: str | None = None

    @property
    def location(self) -> str:
        return oauth.with_query(self.next_url, integration_id=str(self.integration_id), kind=self.kind)


def retry_url(token: str | None, popup: bool) -> str | None:
    if not token:
        return None
    return f"/connect/{token}" + ("?mode=popup" if popup else "")


async def _as_creator(runtime: Runtime, db: Any, row: ConnectSession) -> ProjectContext:
    try:
        # As strong as an `integration:write` key of the session's creator, limited to its project.
        return await project_context_for_user(
            runtime, db, user_id=row.created_by_id, project_id=row.project_id, scopes=["integration:write"]
        )
    except APIError as exc:
        raise PageProblem(403, "This link can no longer connect", exc.detail) from None


async def _check_reconnect(
    ctx: ProjectContext, row: ConnectSession, kind: str, built: BuiltIntegration, retry: str | None
) -> None:
    if row.integration_pk is None:
        return
    target = await integrations.repository(ctx).get_model(row.integration_pk)
    if target is None:
        raise PageProblem(410, "This connection no longer exists", GONE_INTEGRATION)
    if target.kind != kind or target.integration_id != built.integration_id:
        was = display_name(target.kind, target.integration_id, target.config or {})
        now = display_name(kind, built.integration_id, built.config)
        raise PageProblem(
            400,
            "That is a different account",
            f"This link reconnects {was}, but you connected {now}. Nothing was changed; "
            "try again with the same account.",
            retry,
        )


async def complete(
    ctx: ProjectContext, row: ConnectSession, kind: str, built: BuiltIntegration, retry: str | None
) -> Integration:
    """Spend the session and store the connection, or neither."""
    await _check_reconnect(ctx, row, kind, built, retry)
    claimed_at = datetime.now(UTC)
    async with ctx.runtime.db.transaction() as db:
        won = await ConnectSessionRepository(db).claim(row.id, claimed_at)
    if not won:
        usable(row)  # says expired or used
        raise PageProblem(410, "This link was already used", "This link was already used.")
    try:
        return await integrations.save_integration(ctx, kind, built)
    except APIError as exc:
        async with ctx.runtime.db.transaction() as db:
            await ConnectSessionRepository(db).release(row.id, claimed_at)
        raise PageProblem(
            exc.status_code, f"{card(kind).name} could not be connected", exc.detail, retry
        ) from None


# --- OAuth kinds -------------------------------------------------------------------------------------
async def start_oauth(
    runtime: Runtime, opened: OpenSession, kind: str, popup: bool, browser_cookie: str | None
) -> oauth.AuthorizationStart:
    provider = get_provider(kind)
    if provider is None or not opened.offers(kind) or kind not in {c.kind for c in opened.cards}:
        raise PageProblem(404, "Not offered here", f"This link does not offer {card(kind).name}.")
    row = opened.row
    link = oauth.ConnectLink(row.id, popup, {"connect_token": opened.token})
    return await oauth.begin_attempt(
        runtime, provider, row.created_by_id, row.project_id, row.next_url, browser_cookie, link
    )


async def _connect_state(runtime: Runtime, kind: str, params: dict[str, str]) -> OAuthState | None:
    if get_provider(kind) is None:
        return None
    try:
        token = oauth.state_token(params.get("state"))
    except ValidationError:
        return None
    async with runtime.db.session() as db:
        state = await OAuthStateRepository(db).get(token)
    return state if state is not None and state.connect_session_id is not None else None


async def finish_oauth(
    runtime: Runtime, kind: str, params: dict[str, str], browser_cookie: str | None
) -> Connected | None:
    """The provider's return to a flow a connect page started (None: not such a flow)."""
    state = await _connect_state(runtime, kind, params)
    if state is None:
        return None
    try:
        carried = runtime.keyring.decrypt_json(state.secret)
    except UndecryptableSecret:
        carried = {}
    retry = retry_url(carried.get("connect_token"), state.connect_popup)
    name = card(kind).name
    try:
        await oauth.load_state(runtime, state.token, kind)
    except ValidationError as exc:
        raise PageProblem(400, f"{name} could not be connected", exc.detail, retry) from None
    if not browser_binding.matches(state.browser_binding, browser_cookie):
        raise PageProblem(400, "Finish where you started", oauth.OTHER_BROWSER)
    async with runtime.db.session() as db:
        row = await ConnectSessionRepository(db).by_id(state.connect_session_id or 0)
    if row is None:
        raise PageProblem(410, "This link has expired", "This link has expired. Ask for a new one.")
    usable(row)
    error = params.get("error")
    if error:
        await oauth.consume_state(runtime, state)
        text = DENIED if error == "access_denied" else PROVIDER_ERROR
        raise PageProblem(400, f"{name} was not connected", text.format(name=name, error=error[:200]), retry)
    async with runtime.db.session() as db:
        ctx = await _as_creator(runtime, db, row)
        try:
            built = await builder_for(kind)(
                ctx, {"code": params.get("code", ""), "state": params.get("state", "")}
            )
        except APIError as exc:
            raise PageProblem(exc.status_code, f"{name} could not be connected", exc.detail, retry) from None
        made = await complete(ctx, row, kind, built, retry)
    return Connected(kind, made.id, row.next_url, opener_origin(runtime, row), state.connect_popup)


# --- kinds created from credentials --------------------------------------------------------------------
def _field_for(form: KindCard, attr: str | None, detail: str = "") -> str:
    """The field an error is shown next to: the one `attr` names; else the field the message speaks
    of first ("Provided host 'x' is not valid": host); else the card's fallback."""
    names = {f.name for f in form.fields}
    if attr in names:
        return str(attr)
    text = detail.lower()
    spoken = [
        (text.find(words), -len(words), f.name)
        for f in form.fields
        for words in {f.name.replace("_", " "), f.label.lower()}
        if words in text
    ]
    return min(spoken)[2] if spoken else form.fallback_field


def _typed(form: KindCard, values: dict[str, str], kept: dict[str, str]) -> dict[str, Any]:
    """The form's values as the API's `config` takes them: numbers as numbers, a ticked checkbox as
    true, empty fields left out (the builder's defaults apply)."""
    config: dict[str, Any] = {}
    for field in form.fields:
        value = values[field.name]
        if not value:
            continue
        if field.value_type == "boolean":
            config[field.name] = True
        elif field.value_type == "integer":
            if not value.isdigit() or len(value) > 9:
                raise FormProblem(form.kind, {field.name: "A valid integer is required."}, kept)
            config[field.name] = int(value)
        else:
            config[field.name] = value
    return config


async def submit_credentials(
    runtime: Runtime, opened: OpenSession, kind: str, form_values: dict[str, str], popup: bool
) -> Connected:
    form = CREDENTIAL_CARDS.get(kind)
    if form is None or not opened.offers(kind):
        raise PageProblem(404, "Not offered here", f"This link does not offer {card(kind).name}.")
    values = {f.name: form_values.get(f.name, "").strip() for f in form.fields}
    kept = {f.name: values[f.name] for f in form.fields if not f.secret}
    missing = {f.name: "This field is required." for f in form.fields if f.required and not values[f.name]}
    if missing:
        raise FormProblem(kind, missing, kept)
    config = _typed(form, values, kept)
    retry = retry_url(opened.token, popup)
    row = opened.row
    async with runtime.db.session() as db:
        ctx = await _as_creator(runtime, db, row)
        try:
            built = await builder_for(kind)(ctx, config)
        except ValidationError as exc:
            raise FormProblem(kind, {_field_for(form, exc.attr, exc.detail): exc.detail}, kept) from None
        except APIError as exc:
            raise PageProblem(
                exc.status_code, f"{form.name} could not be connected", exc.detail, retry
            ) from None
        made = await complete(ctx, row, kind, built, retry)
        connected = Connected(kind, made.id, row.next_url, opener_origin(runtime, row), popup)
        if kind == "email":
            connected.dns_url, connected.dns_provider = await _domain_connect(ctx, made)
    return connected


async def _domain_connect(ctx: ProjectContext, sender: Integration) -> tuple[str | None, str | None]:
    """The one-click DNS set-up of a new email sender, where its DNS provider supports it."""
    domain = str((sender.config or {}).get("domain") or "")
    try:
        found = await domain_connect.check(ctx, domain)
        if not found["supported"]:
            return None, None
        applied = await domain_connect.apply_url(
            ctx, ApplyUrlRequest.model_validate({"context": "email", "integration_id": sender.id})
        )
    except APIError:
        return None, None  # the sender exists; DNS can be set up by hand or later
    return applied["url"], found["provider_name"]
