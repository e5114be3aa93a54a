"""The builders of integration kinds: what a create request's config becomes when stored.

Two sources, no kind named here: a domain that owns a kind registers its builder with
`@kind_builder("kind")` (the OAuth domain for every OAuth kind, the email-sender domain for `email`),
and a provider package that implements `CredentialKind` (Twilio, Databricks ...) is found through
the provider registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, CredentialKind

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext

# What a builder answers: the id, the public config and the secrets (encrypted when stored).
BuiltIntegration = BuiltCredentials

KindBuilder = Callable[["ProjectContext", dict[str, Any]], Awaitable[BuiltIntegration]]

_BUILDERS: dict[str, KindBuilder] = {}


def kind_builder(kind: str) -> Callable[[KindBuilder], KindBuilder]:
    def register(func: KindBuilder) -> KindBuilder:
        _BUILDERS[kind] = func
        return func

    return register


def _credential_builder(kind: CredentialKind) -> KindBuilder:
    async def build(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
        return await kind.build(ctx.runtime.settings, config)

    return build


def builder_for(kind: str) -> KindBuilder:
    if kind in _BUILDERS:
        return _BUILDERS[kind]
    credentials = registry.credential_kind(kind)
    if credentials is not None:
        return _credential_builder(credentials)
    raise ValidationError("Kind not supported")
