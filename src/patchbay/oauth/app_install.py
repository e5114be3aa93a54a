"""Kinds connected by installing the provider's app (`providers.base.AppInstall`; GitHub App): the
same server-side `state` as OAuth (random, single-use, bound to user, project and browser, ten
minutes), but the provider sends the browser back with an installation id instead of a code.

    start(ctx, kind, installer, next, cookie)  -> the install page (authorize/ answers a 302 to it)
    build_from_installation(ctx, kind, config) -> the builder behind POST …/integrations/
    callback_config(kind, params)              -> the create config the provider's redirect carries
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from patchbay.config import kind_env_name
from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit import browser_binding
from patchbay.kit.errors import ValidationError
from patchbay.models import OAuthState
from patchbay.oauth import authorize
from patchbay.oauth.repository import OAuthStateRepository
from patchbay.providers import registry
from patchbay.providers.base import AppInstall

if TYPE_CHECKING:
    from patchbay.oauth.service import AuthorizationStart
    from patchbay.tenancy.context import ProjectContext

INSTALLATION_ID = re.compile(r"^[0-9]{1,20}$")


def require_configured(ctx_settings: Any, kind: str, installer: AppInstall) -> None:
    if not installer.configured(ctx_settings):
        raise ValidationError(
            f"Kind not configured. Set {kind_env_name(kind, 'APP_ID')}, "
            f"{kind_env_name(kind, 'APP_PRIVATE_KEY')} and {kind_env_name(kind, 'APP_SLUG')} on the Patchbay server."
        )


async def start(
    ctx: ProjectContext, kind: str, installer: AppInstall, next_value: str, browser_cookie: str | None
) -> AuthorizationStart:
    """Store the attempt's state and answer the install page to send the browser to."""
    from patchbay.oauth.service import STATE_TTL, AuthorizationStart

    runtime = ctx.runtime
    require_configured(runtime.settings, kind, installer)
    token = os.urandom(33).hex()
    browser = browser_binding.value_for(browser_cookie)
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        await OAuthStateRepository(session).insert(
            OAuthState(
                token=token,
                kind=kind,
                user_id=ctx.user.id,
                project_id=ctx.project.id,
                next_url=next_value,
                secret="",
                created_at=now,
                expires_at=now + STATE_TTL,
                browser_binding=browser_binding.digest(browser),
                connect_session_id=None,
                connect_popup=False,
            )
        )
    location = installer.install_url(
        runtime.settings, authorize.state_string(next_value, token, ctx.project.id)
    )
    return AuthorizationStart(location, token, runtime.settings.site_origin.startswith("https://"), browser)


async def build_from_installation(ctx: ProjectContext, kind: str, config: dict[str, Any]) -> BuiltIntegration:
    """PostHog's checks in PostHog's order (installation id, then state), then the provider reads
    the installation with the app's credentials."""
    from patchbay.oauth import service

    installer = registry.app_install(kind)
    assert installer is not None  # registered below only for app-install kinds
    installation_id = config.get("installation_id")
    if installation_id is None or installation_id == "":
        raise ValidationError("An installation_id must be provided", attr="installation_id")
    if not INSTALLATION_ID.match(str(installation_id)):
        raise ValidationError("Invalid installation_id", attr="installation_id")
    token = service.state_token(config.get("state"))
    require_configured(ctx.runtime.settings, kind, installer)
    installer.validate(ctx.runtime.settings, config)
    row = await service.load_state(ctx.runtime, token, kind)
    if row.user_id != ctx.user.id:
        raise ValidationError(service.OTHER_USER, attr="state")
    if row.project_id != ctx.project.id:
        raise ValidationError(service.OTHER_PROJECT, attr="state")
    await service.consume_state(ctx.runtime, row)
    return await installer.build(ctx.runtime.settings, {**config, "installation_id": str(installation_id)})


def callback_config(kind: str, params: dict[str, str]) -> dict[str, Any] | None:
    """What the provider's redirect to `/integrations/{kind}/callback` creates; None for other kinds."""
    installer = registry.app_install(kind)
    return installer.callback_config(params) if installer is not None else None


def _builder(kind: str) -> Any:
    async def build(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
        return await build_from_installation(ctx, kind, config if isinstance(config, dict) else {})

    build.__name__ = f"build_{kind.replace('-', '_')}_from_installation"
    return build


for _kind in registry.app_install_kinds():
    _installer = registry.app_install(_kind)
    kind_builder(_kind, config=_installer.config_model if _installer else None)(_builder(_kind))
