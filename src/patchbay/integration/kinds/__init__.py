"""The builders of integration kinds: what a create request's config becomes when stored.

Two sources, no kind named here: a domain that owns a kind registers its builder with
`@kind_builder("kind", config=Model)` (the OAuth domain for every OAuth kind, the email-sender
domain for `email`), and a provider package that implements `CredentialKind` (Twilio, Databricks
...) is found through the provider registry. `config` models document each kind's creation
parameters in the OpenAPI schema (the builder still does the validating, with PostHog's messages).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from patchbay.integration.repository import held_by_other_organization
from patchbay.kit.errors import PermissionDenied, ValidationError
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, CredentialKind
from patchbay.providers.push_identity import ADMIN_ONLY, touches_push_identity

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext

# What a builder answers: the id, the public config and the secrets (encrypted when stored).
BuiltIntegration = BuiltCredentials

KindBuilder = Callable[["ProjectContext", dict[str, Any]], Awaitable[BuiltIntegration]]

_BUILDERS: dict[str, KindBuilder] = {}
_CONFIG_MODELS: dict[str, type[BaseModel]] = {}


def kind_builder(kind: str, config: type[BaseModel] | None = None) -> Callable[[KindBuilder], KindBuilder]:
    def register(func: KindBuilder) -> KindBuilder:
        _BUILDERS[kind] = func
        if config is not None:
            _CONFIG_MODELS[kind] = config
        return func

    return register


def config_models() -> dict[str, type[BaseModel]]:
    """kind -> the model of its `config`, for every kind that documents one."""
    models = dict(_CONFIG_MODELS)
    for provider in registry.providers():
        model = provider.credential_kind.config_model if provider.credential_kind is not None else None
        if model is not None:
            for kind in provider.kinds:
                models.setdefault(kind, model)
    return models


def _credential_builder(kind_name: str, kind: CredentialKind) -> KindBuilder:
    async def build(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
        # PostHog checks this before building (create and reconnect alike): a member who is not a
        # project admin is refused even with credentials that would not have passed.
        if touches_push_identity(config) and not ctx.is_project_admin:
            raise PermissionDenied(ADMIN_ONLY)
        built = await kind.build(ctx.runtime.settings, config)
        if built.scoped_id is not None:
            built = replace(built, integration_id=built.scoped_id(ctx.project.id), scoped_id=None)
        if built.one_organization_only is not None and built.integration_id is not None:
            if await held_by_other_organization(
                ctx.session, ctx.organization_id, kind_name, built.integration_id
            ):
                detail = built.one_organization_only.replace("{integration_id}", built.integration_id)
                raise ValidationError(detail, attr=built.one_organization_only_attr)
        return built

    return build


def builder_for(kind: str) -> KindBuilder:
    if kind in _BUILDERS:
        return _BUILDERS[kind]
    credentials = registry.credential_kind(kind)
    if credentials is not None:
        return _credential_builder(kind, credentials)
    raise ValidationError("Kind not supported")
