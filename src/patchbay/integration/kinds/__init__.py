"""Builders for integration kinds created from `config` — one module per kind in this package.

A builder turns the request's config into what is stored. Adding a kind is adding a module that
decorates its builder with `@kind_builder("name")`; `oauth.py` registers every kind of the OAuth
catalogue (built from {"code", "state"} by the OAuth domain).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from patchbay.kit.errors import ValidationError

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext


@dataclass
class BuiltIntegration:
    integration_id: str | None
    config: dict[str, Any]
    sensitive_config: dict[str, Any] = field(default_factory=dict)


KindBuilder = Callable[["ProjectContext", dict[str, Any]], Awaitable[BuiltIntegration]]

_BUILDERS: dict[str, KindBuilder] = {}
_CONFIG_MODELS: dict[str, type[BaseModel]] = {}
_loaded = False


def kind_builder(kind: str, config: type[BaseModel] | None = None) -> Callable[[KindBuilder], KindBuilder]:
    """Register a kind's builder; `config` documents its creation parameters in the OpenAPI schema
    (the builder still does the validating, with PostHog's messages)."""

    def register(func: KindBuilder) -> KindBuilder:
        _BUILDERS[kind] = func
        if config is not None:
            _CONFIG_MODELS[kind] = config
        return func

    return register


def config_models() -> dict[str, type[BaseModel]]:
    """kind -> the model of its `config`, for every kind that documents one."""
    _load_kind_modules()
    return dict(_CONFIG_MODELS)


def _load_kind_modules() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def builder_for(kind: str) -> KindBuilder:
    _load_kind_modules()
    if kind in _BUILDERS:
        return _BUILDERS[kind]
    raise ValidationError("Kind not supported")
