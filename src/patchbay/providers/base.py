"""What a provider can implement, as typed interfaces (Netflix Dispatch's plugin style).

A provider is one package `patchbay.providers.<name>/` whose `__init__` builds one `Provider` and
calls `registry.register(...)`. The registry finds every package at start-up; domains ask it for a
capability by kind and never name a provider. A capability a provider does not implement is None
here and a 400 for the caller (`registry.require_*`), never an AttributeError.

Capabilities:
  OAuthQuirks     behaviour of an OAuth kind the catalogue cannot say as data (token endpoint
                  authentication, token answer reshaping, account enrichment, refresh error
                  classification, refresh/revoke URLs)
  CredentialKind  a kind created from credentials typed in by the user (validate, then build)
  ResourceLister  routes listing what lives on the provider side of an integration
  ProxyAuth       the API base URL and how stored credentials are put on a request (the proxy;
                  every OAuth kind gets a BearerProxy, providers/bearer_proxy.py, from its
                  catalogue entry)
  CredentialHandover  what the credentials route hands over for a non-OAuth kind (Twilio: basic)
  HealthCheck     the cheapest call proving the stored credentials still work
  AppInstall      a kind connected by installing the provider's app (GitHub App): install page,
                  then the provider's redirect with an installation id, checked against the state
  TokenMinter     a kind whose short-lived token is minted from the platform's own credentials (a
                  GitHub App's JWT) rather than refreshed with a refresh token
  OrgKind         an organization-level kind (install, environment mapping, delete, webhooks)
  Simulator       the provider's loopback simulator, mounted by the sandbox
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, runtime_checkable

import httpx
from pydantic import BaseModel

from patchbay.kit.errors import APIError
from patchbay.kit.provider_errors import UpstreamError

if TYPE_CHECKING:
    from patchbay.config import Settings
    from patchbay.providers.catalog import OAuthProvider
    from patchbay.providers.oauth_helpers import Exchange

T = TypeVar("T")


# --- OAuth -------------------------------------------------------------------------------------
class TokenAuthStyle(Protocol):
    """How the client authenticates at the token endpoint (form body, HTTP Basic, a JSON body ...)."""

    async def post(
        self,
        client: httpx.AsyncClient,
        url: str,
        fields: dict[str, str],
        client_id: str,
        client_secret: str,
        headers: dict[str, str],
    ) -> httpx.Response: ...


class FormAuth:
    """client_id and client_secret in the form body (RFC 6749 §2.3.1, the common case)."""

    async def post(
        self,
        client: httpx.AsyncClient,
        url: str,
        fields: dict[str, str],
        client_id: str,
        client_secret: str,
        headers: dict[str, str],
    ) -> httpx.Response:
        body = {"client_id": client_id, "client_secret": client_secret, **fields}
        return await client.post(url, data=body, headers=headers)


class BasicAuth:
    """HTTP Basic client_id:client_secret, the other fields in the form body."""

    async def post(
        self,
        client: httpx.AsyncClient,
        url: str,
        fields: dict[str, str],
        client_id: str,
        client_secret: str,
        headers: dict[str, str],
    ) -> httpx.Response:
        return await client.post(url, data=fields, auth=(client_id, client_secret), headers=headers)


TOKEN_AUTH_STYLES: dict[str, TokenAuthStyle] = {"form": FormAuth(), "basic": BasicAuth()}


class OAuthQuirks:
    """Defaults are plain OAuth 2; a provider package overrides what its provider does differently."""

    # None: the catalogue entry's `token_auth` ("form" or "basic").
    token_auth: TokenAuthStyle | None = None

    def authorize_params(
        self, provider: OAuthProvider, client_id: str, redirect_uri: str, state: str
    ) -> dict[str, str]:
        """The query of the authorize URL (PKCE parameters are added by the OAuth domain)."""
        return {
            "client_id": client_id,
            "scope": provider.scope,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            **provider.extra_authorize_params,
        }

    def redirect_uri(self, settings: Settings, default: str) -> str:
        """The `redirect_uri` sent to the provider (authorize and code exchange); eBay wants its
        RuName there, the name of the URL registered with it."""
        return default

    def display_name(self, integration_id: str | None, config: dict[str, Any]) -> str | None:
        """The integration's display name; None: the catalogue entry's `name_path`."""
        return None

    def normalize_token_response(self, data: dict[str, Any]) -> dict[str, Any]:
        """Reshape the token endpoint's answer before it is read."""
        return data

    async def enrich(self, exchange: Exchange) -> None:
        """Fetch or derive config fields after the code exchange (and token-info)."""

    def classify_refresh_error(self, status: int, body: Any) -> str | None:
        """A provider-specific failure class of a refresh answer (e.g. "invalid_grant"), or None."""
        return None

    def refresh_token_url(self, provider: OAuthProvider, settings: Settings, config: dict[str, Any]) -> str:
        """Where a refresh is posted."""
        return provider.resolve_token_url(settings)

    def revoke_url(self, provider: OAuthProvider, settings: Settings, config: dict[str, Any]) -> str | None:
        """Where a revoke is posted; None: the provider has no revoke endpoint."""
        return provider.resolve(settings, provider.revoke_url) if provider.revoke_url else None


STANDARD_OAUTH = OAuthQuirks()


# --- credential kinds --------------------------------------------------------------------------
@dataclass
class BuiltCredentials:
    """What a credential kind stores: the id, the public config and the secrets (encrypted)."""

    integration_id: str | None
    config: dict[str, Any]
    sensitive_config: dict[str, Any] = field(default_factory=dict)
    # PostHog puts the project's id into some ids (PostgreSQL "{team}-{host}-{port}-{user}", Google
    # service accounts "{email}-{team}-{variant}", Anthropic's "workspace-{team}"): the builder, which
    # knows the project, calls this with the project's id and stores the answer as the integration_id.
    scoped_id: Callable[[int], str] | None = None
    # Set for create-only kinds (a name the user chose: AWS, S3-compatible, Snowflake; Anthropic
    # without `force`): a create that meets an existing row of the same id is refused with this
    # detail ("{integration_id}" in it replaced by the id) instead of overwriting it.
    refuse_existing: str | None = None
    refuse_existing_attr: str | None = None
    # Set when one organization may hold the id alone (an impersonated Google service account: whoever
    # connects it first gets what it may reach): a row of the same kind and id in another
    # organization refuses the create with this detail (`attr` below).
    one_organization_only: str | None = None
    one_organization_only_attr: str | None = None
    # Whether building proved the credentials with the provider (a code exchange, Twilio's account
    # fetch): the row starts `healthy` rather than `unknown`.
    verified: bool = False


class CredentialKind(Protocol):
    """A kind created from what the user types in (Twilio's SID and token, Databricks' host ...).
    `build` validates (a 400 for bad input, provider errors for an unreachable provider) and
    answers what to store; `config_model` documents the `config` in the OpenAPI schema."""

    @property
    def config_model(self) -> type[BaseModel] | None: ...

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials: ...


# --- app installations and minted tokens ----------------------------------------------------------
class AppInstall(Protocol):
    """A kind connected by installing the provider's app (a GitHub App). The OAuth domain owns the
    flow: it stores the `state`, sends the browser to `install_url`, and on the way back checks the
    state before `build` runs with what `callback_config` read from the provider's redirect."""

    @property
    def config_model(self) -> type[BaseModel] | None: ...

    def configured(self, settings: Settings) -> bool:
        """Whether the operator configured the app (otherwise "Kind not configured")."""
        ...

    def install_url(self, settings: Settings, state: str) -> str: ...

    def callback_config(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The create `config` the provider's redirect to the callback carries."""
        ...

    def validate(self, settings: Settings, config: dict[str, Any]) -> None:
        """The 400s for missing input, raised before the state is spent."""
        ...

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        """The installation (its id already checked against the state) as what to store."""
        ...


class TokenMinter(Protocol):
    """Mints a fresh access token for a stored integration (GitHub: POST
    /app/installations/{id}/access_tokens with the app's JWT). Raises `UpstreamError`. Answers the
    config keys to update (`expires_in`, `refreshed_at` ...) and the secrets to store."""

    async def mint(
        self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]
    ) -> BuiltCredentials: ...


# --- resource lists ----------------------------------------------------------------------------
class ResourceSession(Protocol):
    """What the platform hands a resource route: one integration of the caller's project, its
    credentials, the cache and the failure policy. Implemented by `provider_resources`."""

    @property
    def kind(self) -> str: ...
    @property
    def pk(self) -> int: ...
    @property
    def integration_id(self) -> str | None: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def browser_session(self) -> bool:
        """A signed-in browser, not an API key: only it may bypass Slack's list caches."""
        ...

    @property
    def created_by_id(self) -> int | None: ...
    @property
    def user_id(self) -> int: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def http_timeout(self) -> float: ...

    async def access_token(self) -> str:
        """A fresh access token (refreshed if needed); an envelope error when there is none."""
        ...

    async def secrets(self) -> dict[str, Any]:
        """The integration's decrypted secrets (after a refresh, for OAuth kinds)."""
        ...

    def cache_key(self, *parts: str) -> str: ...

    async def cache_get(self, key: str) -> Any: ...

    async def cache_set(self, key: str, value: Any, ttl: float | None = None) -> None: ...

    async def remaining_ttl(self, key: str) -> float: ...

    async def cached(
        self,
        key: str,
        fill: Callable[[], Awaitable[dict[str, Any]]],
        *,
        force: bool,
        ttl: float | None = None,
    ) -> dict[str, Any]:
        """Serve `key` from the cache or fill it (one fill at a time, across processes); kept `ttl`
        seconds (default: an hour)."""
        ...

    async def cached_list(
        self,
        key: str,
        field: str,
        fetch: Callable[[], Awaitable[list[dict[str, Any]]]],
        *,
        action: str,
        force_refresh: bool,
    ) -> dict[str, Any]:
        """`{field: [...]}` from `fetch` under the shared failure rules (`call`), cached at `key`;
        `force_refresh` reads the provider again, for signed-in browsers only."""
        ...

    async def spend_lookup_budget(self, name: str, detail: str) -> None:
        """One unit of the per-integration budget for uncached lookups; 429 when it is spent."""
        ...

    async def call(self, fetch: Callable[[], Awaitable[T]], *, action: str = "") -> T:
        """Run a provider read; an `UpstreamError` is recorded and raised as the envelope."""
        ...

    def api_error(self, error: UpstreamError, *, action: str = "") -> APIError:
        """The envelope for a failure, without recording it."""
        ...

    async def fail(self, error: UpstreamError, *, action: str = "") -> NoReturn:
        """Record the failure (log; mark the integration when the provider says so), raise it."""
        ...


# A resource route's handler: the session, then the route's own query parameters (declared with
# FastAPI's Query(...) defaults: they become the route's OpenAPI parameters).
ResourceHandler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ResourceRoute:
    """`GET /api/projects/{id}/integrations/{pk}/{path}` for integrations of the provider's kinds
    (another method and scope where PostHog has one: `POST github_repos/refresh`, a write)."""

    path: str
    name: str  # the OpenAPI operation id, PostHog style
    response_model: type[Any]
    handler: ResourceHandler
    # The 400 for an integration of another kind (PostHog's own wording per route); `{id}` and
    # `{kind}` are filled in where PostHog names the integration (Anthropic's lists).
    wrong_kind: str
    wrong_kind_attr: str | None = None
    summary: str | None = None
    method: str = "GET"
    scope: str = "integration:read"


@dataclass(frozen=True)
class ResourceLister:
    routes: Sequence[ResourceRoute]
    # Whether an AUTH failure marks the integration `errors = TOKEN_REFRESH_FAILED`.
    marks_integration_on_auth: bool = False
    # Whether a failed token refresh is answered as this provider's AUTH failure.
    refresh_failure_is_auth: bool = False
    # The provider's own envelope for some failures (None: the generic one).
    api_error: Callable[[UpstreamError, str], APIError | None] | None = None
    # Routes are matched in this order (lower first), so the busiest lists come first.
    priority: int = 100


# --- proxy, health -----------------------------------------------------------------------------
class ProxyAuth(Protocol):
    """For the proxy (patchbay.provider_proxy): where the provider's API is and how credentials go on
    a call. `refreshable`: the credentials are an OAuth access token (refreshed before a call when it
    expires soon, and once more after the provider answered 401). `user_host`: the API base is a
    host the user typed in (GitLab's instance): the proxy reaches it only through the address guard
    (kit.http.guarded_client), resolved, checked and pinned."""

    @property
    def refreshable(self) -> bool: ...

    @property
    def user_host(self) -> bool: ...

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str: ...

    def authorize(self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        """Put the stored credentials on an outgoing request (header, Basic auth, query ...). Raises
        `UpstreamError` (Failure.AUTH) when the integration holds none."""
        ...


class CredentialHandover(Protocol):
    """What the credentials route hands a non-OAuth kind's owner (OAuth kinds are handed over as
    `oauth2` access tokens by the platform): (`auth_type`, `credentials`). Never a secret the
    provider does not need on a call (a refresh token, a client secret for another flow)."""

    def hand_over(self, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> tuple[str, dict[str, Any]]: ...


class HealthCheck(Protocol):
    """The cheapest provider call that proves stored credentials work; raises `UpstreamError`."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None: ...


# --- organization-level kinds --------------------------------------------------------------------
@dataclass(frozen=True)
class EnvironmentTokens:
    production: str
    preview: str
    development: str


@dataclass(frozen=True)
class OrgInstallation:
    """The parts of an organization integration a provider needs to talk about it."""

    kind: str
    integration_id: str | None
    config: Mapping[str, Any]
    secrets: Mapping[str, Any]


class OrgKind(Protocol):
    """An organization-level kind (Vercel). Installs and webhooks arrive on the provider's own
    routes (`routers`); the organization-integration domain calls the rest."""

    def push_environment_mapping(
        self,
        settings: Settings,
        installation: OrgInstallation,
        *,
        resource_id: str,
        name: str,
        tokens: EnvironmentTokens,
    ) -> Awaitable[None]:
        """Push the mapped projects' tokens to the provider after the mapping was saved. Raises an
        `APIError` whose detail completes "the mapping was saved, but pushing ... failed: "."""
        ...

    def after_delete(self, settings: Settings, installation: OrgInstallation) -> Awaitable[None]:
        """Best effort after the installation's rows were deleted."""
        ...


# --- simulator -----------------------------------------------------------------------------------
@runtime_checkable
class Simulator(Protocol):
    """A loopback simulator module (see `patchbay.sandbox.app`): NAME, KIND_URLS, routes(state),
    optionally render_fault, extra_env, seed_demo."""

    NAME: str
    KIND_URLS: dict[str, dict[str, str]]

    def routes(self, state: Any) -> list[Any]: ...


# --- the provider --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provider:
    name: str  # the package name
    display_name: str  # as users know it ("Slack", "ClickUp")
    kinds: tuple[str, ...]
    # Catalogue entries this package adds (generic OAuth providers stay in providers/catalog.py).
    oauth_providers: tuple[OAuthProvider, ...] = ()
    oauth: OAuthQuirks | None = None
    credential_kind: CredentialKind | None = None
    resources: ResourceLister | None = None
    proxy: ProxyAuth | None = None
    handover: CredentialHandover | None = None
    health: HealthCheck | None = None
    org_kind: OrgKind | None = None
    app_install: AppInstall | None = None
    token_minter: TokenMinter | None = None
    simulators: tuple[Any, ...] = ()  # modules satisfying `Simulator`
