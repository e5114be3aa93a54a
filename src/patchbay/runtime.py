"""What a running Patchbay holds once: settings, database, key ring, cache, limiter, single-flight."""

from __future__ import annotations

from dataclasses import dataclass, field

from patchbay.auth.cache import CallerCache
from patchbay.config import Settings
from patchbay.kit.cache import FallbackCache, MemoryCache, make_cache
from patchbay.kit.crypto import KeyRing, key_file_for_sqlite, load_or_create_key_file
from patchbay.kit.db import Database, Timeouts
from patchbay.kit.http import SharedClient
from patchbay.kit.live_cache import LiveCache
from patchbay.kit.locks import SingleFlight
from patchbay.kit.ratelimit import RateLimiter, parse_rates


class ConfigurationError(Exception):
    """A setting makes it impossible to start; the message says which and what to do."""


def load_key_ring(settings: Settings) -> KeyRing:
    if settings.encryption_keys:
        try:
            return KeyRing.from_string(settings.encryption_keys)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
    if not settings.is_sqlite:
        raise ConfigurationError(
            "PATCHBAY_ENCRYPTION_KEYS is required with PostgreSQL: comma-separated Fernet keys, the first "
            "encrypts (generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    return KeyRing([load_or_create_key_file(key_file_for_sqlite(settings.database_url))])


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: KeyRing
    cache: MemoryCache | FallbackCache
    rate_limiter: RateLimiter
    # Requests without a valid key, counted per client address (PATCHBAY_RATE_LIMIT_ANONYMOUS).
    anonymous_limiter: RateLimiter
    single_flight: SingleFlight = field(default_factory=SingleFlight)
    # Set with PostgreSQL (and PATCHBAY_AUTH_CACHE on); serves once the app's listener runs.
    caller_cache: CallerCache | None = None
    # Set with PostgreSQL (and PATCHBAY_INTEGRATION_CACHE on): the rows the proxy calls with, by
    # (project, viewer, integration); serves once the app's listener runs.
    integration_cache: LiveCache[tuple[int, int, int]] | None = None
    # The proxy's outbound client, one per event loop (kit.http.SharedClient).
    http: SharedClient = field(default_factory=SharedClient)

    async def close(self) -> None:
        await self.http.aclose()
        await self.cache.close()
        await self.db.dispose()


def build_runtime(settings: Settings, *, pool_size: int = 10) -> Runtime:
    keyring = load_key_ring(settings)
    try:
        rates = parse_rates(settings.rate_limit)
    except ValueError as exc:
        raise ConfigurationError(f"PATCHBAY_RATE_LIMIT: {exc}") from None
    try:
        anonymous_rates = parse_rates(settings.rate_limit_anonymous)
    except ValueError as exc:
        raise ConfigurationError(f"PATCHBAY_RATE_LIMIT_ANONYMOUS: {exc}") from None
    try:
        settings.webhook_retry_delays()
    except ValueError as exc:
        raise ConfigurationError(f"PATCHBAY_WEBHOOK_RETRY_SCHEDULE: {exc}") from None
    cache = make_cache(
        settings.redis_url,
        settings.redis_key_prefix,
        timeout=settings.redis_timeout,
        retry_interval=settings.redis_retry_interval,
    )
    timeouts = Timeouts(
        connect=settings.db_connect_timeout,
        pool=settings.db_pool_timeout,
        statement=settings.db_statement_timeout,
    )
    db = Database(settings.database_url, pool_size=pool_size, timeouts=timeouts)
    return Runtime(
        settings=settings,
        db=db,
        keyring=keyring,
        cache=cache,
        rate_limiter=RateLimiter(rates, cache),
        anonymous_limiter=RateLimiter(anonymous_rates, cache, prefix="anonymous"),
        caller_cache=CallerCache() if settings.auth_cache and db.driver is not None else None,
        integration_cache=LiveCache() if settings.integration_cache and db.driver is not None else None,
    )
