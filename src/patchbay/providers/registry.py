"""The provider registry: every package under `patchbay.providers` registers one `Provider` on import;
`load()` imports them all (a pkgutil walk, once). Domains ask here for a capability by kind.

Generic OAuth providers are data in `catalog.py`; a package adds catalogue entries of its own and the
behaviour its provider needs (see `base.py`)."""

from __future__ import annotations

import importlib
import pkgutil
import threading

import patchbay.providers as providers_package
from patchbay.kit.errors import ValidationError
from patchbay.providers import catalog
from patchbay.providers.base import (
    STANDARD_OAUTH,
    TOKEN_AUTH_STYLES,
    AppInstall,
    CredentialHandover,
    CredentialKind,
    HealthCheck,
    OAuthQuirks,
    OrgKind,
    Provider,
    ProxyAuth,
    ResourceLister,
    ResourceRoute,
    TokenAuthStyle,
    TokenMinter,
)
from patchbay.providers.bearer_proxy import BearerProxy
from patchbay.providers.catalog import OAuthProvider
from patchbay.providers.token_info_health import TokenInfoHealth

_PROVIDERS: dict[str, Provider] = {}
_BY_KIND: dict[str, Provider] = {}
_OAUTH: dict[str, OAuthProvider] = {}
_loaded = False
_lock = threading.Lock()


def register(provider: Provider) -> Provider:
    """Called by a provider package's `__init__`. A kind belongs to one provider."""
    for kind in provider.kinds:
        owner = _BY_KIND.get(kind)
        if owner is not None and owner.name != provider.name:
            raise RuntimeError(f"kind {kind!r} is registered by both {owner.name} and {provider.name}")
    _PROVIDERS[provider.name] = provider
    for kind in provider.kinds:
        _BY_KIND[kind] = provider
    for entry in provider.oauth_providers:
        _OAUTH[entry.kind] = entry
    return provider


def load() -> None:
    """Import every provider package once (idempotent, thread-safe)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for info in sorted(pkgutil.iter_modules(providers_package.__path__), key=lambda i: i.name):
            if info.ispkg:
                importlib.import_module(f"{providers_package.__name__}.{info.name}")
        _loaded = True


def providers() -> list[Provider]:
    load()
    return [_PROVIDERS[name] for name in sorted(_PROVIDERS)]


def for_kind(kind: str) -> Provider | None:
    load()
    return _BY_KIND.get(kind)


def kinds() -> frozenset[str]:
    """Every kind a provider package registers (catalogue kinds are listed in `catalog`)."""
    load()
    return frozenset(_BY_KIND)


def display_name(kind: str) -> str:
    provider = for_kind(kind)
    return provider.display_name if provider is not None else kind.title()


# --- OAuth ---------------------------------------------------------------------------------------
def oauth_provider(kind: str) -> OAuthProvider | None:
    """The catalogue entry of an OAuth kind (the catalogue's own, then the packages')."""
    load()
    return catalog.OAUTH_PROVIDERS.get(kind) or _OAUTH.get(kind)


def oauth_providers() -> dict[str, OAuthProvider]:
    load()
    return {**_OAUTH, **catalog.OAUTH_PROVIDERS}


def oauth_quirks(kind: str) -> OAuthQuirks:
    provider = for_kind(kind)
    return provider.oauth if provider is not None and provider.oauth is not None else STANDARD_OAUTH


def token_auth(entry: OAuthProvider) -> TokenAuthStyle:
    return oauth_quirks(entry.kind).token_auth or TOKEN_AUTH_STYLES[entry.token_auth]


# --- other capabilities ------------------------------------------------------------------------------
def credential_kind(kind: str) -> CredentialKind | None:
    provider = for_kind(kind)
    return provider.credential_kind if provider is not None else None


def resource_lister(kind: str) -> ResourceLister | None:
    provider = for_kind(kind)
    return provider.resources if provider is not None else None


def resource_routes() -> list[ResourceRoute]:
    """Every resource route of every provider, in package order (paths are unique)."""
    routes: list[ResourceRoute] = []
    seen: set[str] = set()
    for provider in providers():
        for route in provider.resources.routes if provider.resources is not None else ():
            if route.path in seen:
                raise RuntimeError(f"resource route {route.path!r} is declared twice")
            seen.add(route.path)
            routes.append(route)
    return routes


def route_owner(route: ResourceRoute) -> Provider:
    for provider in providers():
        if provider.resources is not None and route in provider.resources.routes:
            return provider
    raise LookupError(route.path)


def app_install(kind: str) -> AppInstall | None:
    provider = for_kind(kind)
    return provider.app_install if provider is not None else None


def app_install_kinds() -> list[str]:
    return [kind for provider in providers() if provider.app_install is not None for kind in provider.kinds]


def token_minter(kind: str) -> TokenMinter | None:
    provider = for_kind(kind)
    return provider.token_minter if provider is not None else None


_TOKEN_INFO_CHECKS: dict[str, HealthCheck] = {}


def health_check(kind: str) -> HealthCheck | None:
    """The kind's verification call: its provider's own `HealthCheck`, else, for an OAuth kind, its
    catalogue token-info call; None when Patchbay has no way to verify the kind."""
    provider = for_kind(kind)
    if provider is not None and provider.health is not None:
        return provider.health
    if kind in _TOKEN_INFO_CHECKS:
        return _TOKEN_INFO_CHECKS[kind]
    entry = oauth_provider(kind)
    if entry is None or not entry.token_info_url:
        return None
    check = _TOKEN_INFO_CHECKS[kind] = TokenInfoHealth(entry)
    return check


def proxy_auth(kind: str) -> ProxyAuth | None:
    """How the proxy calls this kind's API: the provider's own ProxyAuth, else a bearer proxy built
    from the catalogue entry of an OAuth kind; None for a kind without an API to proxy."""
    provider = for_kind(kind)
    if provider is not None and provider.proxy is not None:
        return provider.proxy
    entry = oauth_provider(kind)
    if entry is None or not entry.resolved_proxy_base:
        return None
    return BearerProxy(
        kind=kind,
        default_api_url=entry.resolved_proxy_base,
        separate=entry.resolved_proxy_base != entry.api_url,
        trusted_hosts=entry.proxy_trusted_hosts,
    )


def credential_handover(kind: str) -> CredentialHandover | None:
    provider = for_kind(kind)
    return provider.handover if provider is not None else None


def org_kind(kind: str) -> OrgKind | None:
    provider = for_kind(kind)
    return provider.org_kind if provider is not None else None


def require_org_kind(kind: str, what: str) -> OrgKind:
    """The org-kind capability, or the 400 saying this kind cannot do `what`."""
    found = org_kind(kind)
    if found is None:
        raise ValidationError(f"{what} is not supported for {display_name(kind)} integrations.")
    return found


def simulators() -> list[object]:
    """The simulator modules of every provider package (the sandbox mounts them)."""
    return [module for provider in providers() for module in provider.simulators]
