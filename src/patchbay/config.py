"""Settings read from PATCHBAY_* environment variables (and a .env file in the working directory)."""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DOMAIN_CONNECT_PROVIDERS = (
    "api.cloudflare.com/client/v4/dns/domainconnect=Cloudflare,domainconnect.vercel.com=Vercel"
)


def kind_env_name(kind: str, suffix: str) -> str:
    """`google-ads` + `CLIENT_ID` -> `PATCHBAY_GOOGLE_ADS_CLIENT_ID`."""
    return f"PATCHBAY_{kind.upper().replace('-', '_')}_{suffix}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PATCHBAY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = "sqlite:///./patchbay.db"
    site_url: str = "http://127.0.0.1:8000"
    encryption_keys: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "patchbay:"
    # Reliability (docs/reliability.md): how long a request waits on PostgreSQL before it answers 503
    # (a new connection, a pooled one, one statement), on Redis before a worker falls back to memory,
    # how often a fallen-back worker tries Redis again, how long SIGTERM lets requests finish, and how
    # long `serve --workers N` waits on a silent worker before it kills and replaces it.
    db_connect_timeout: float = 2.0
    db_pool_timeout: float = 5.0
    db_statement_timeout: float = 30.0
    redis_timeout: float = 0.5
    redis_retry_interval: float = 1.0
    shutdown_timeout: int = 20
    worker_healthcheck_timeout: int = 30
    rate_limit: str = "480/minute,4800/hour"
    # Requests without a valid key (bad keys, OAuth callbacks, Vercel routes), per client address.
    rate_limit_anonymous: str = "120/minute"
    max_body_bytes: int = 1048576  # larger request bodies -> 413, before anything reads them
    metrics_token: str | None = None  # when set, /metrics needs `Authorization: Bearer <token>`
    allowed_redirect_origins: str = ""
    dns_nameservers: str | None = None
    # Internal networks (CIDR, comma-separated) a host typed in by a user may resolve to; none by default.
    user_host_allowed_networks: str = ""
    domain_connect_private_key: str | None = None
    domain_connect_private_key_file: str | None = None
    domain_connect_key_id: str = "_dcpubkeyv1"
    domain_connect_provider_id: str = "patchbay.dev"
    domain_connect_providers: str = DEFAULT_DOMAIN_CONNECT_PROVIDERS
    domain_connect_allow_http: bool = False
    proxy_base_cname: str | None = None  # managed proxy targets live under it; default proxy.<provider id>
    email_provider: str = "ses"
    ses_endpoint_url: str | None = None
    ses_region: str = "us-east-1"
    # Patchbay's own AWS identity: it assumes the roles users name in aws-s3 and aws-redshift.
    aws_role_access_key_id: str | None = None
    aws_role_secret_access_key: str | None = None
    # Patchbay's own Google service account (its JSON key file): it impersonates the service accounts
    # users name in google-cloud-service-account without a key.
    google_impersonation_key: str | None = None
    vercel_jwks_url: str = "https://marketplace.vercel.com/.well-known/jwks"
    log_level: str = "INFO"
    http_timeout: float = 10.0
    refresher: bool = True  # refresh OAuth tokens ahead of expiry in the background (`serve --no-refresher`)
    refresher_interval: float = 60.0
    # Caller lookups cached per worker, dropped on every change PostgreSQL notifies (auth/cache.py).
    auth_cache: bool = True
    # The proxy's and the credentials route's integration reads, cached the same way (migration 0011).
    integration_cache: bool = True
    # Webhooks (patchbay.webhook): seconds between delivery attempts, one attempt's limit, and whether
    # http and private or loopback URLs are allowed (local development and tests only).
    webhook_retry_schedule: str = "5,30,120,600,1800,3600,10800,21600,43200,86400"
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False
    # false: this process only writes events, other processes deliver them (API-only nodes).
    webhook_delivery: bool = True
    # The integrations' activity logs (patchbay.activity): rows older than this are not shown and
    # are deleted by the hourly prune every worker runs.
    activity_retention_days: int = Field(default=30, ge=1)
    # The proxy (patchbay.provider_proxy): the largest request body it forwards (larger -> 413).
    proxy_max_body_bytes: int = 10 * 1024 * 1024
    # The console (patchbay.console): a signed-in browser's session ends after this many idle
    # minutes, and at the latest this many hours after sign-in; failed sign-ins per account and
    # per address beyond this rate are refused until the window passes.
    console_session_idle_minutes: int = Field(default=30, ge=1)
    console_session_max_hours: int = Field(default=12, ge=1)
    console_signin_rate_limit: str = "5/minute,20/hour"
    # Per-kind OAuth credentials and URLs are dynamic (PATCHBAY_<KIND>_CLIENT_ID ...): see kind_setting().
    # The credential kinds' provider URLs are too (README's table): PATCHBAY_AWS_S3_STS_URL and
    # PATCHBAY_AWS_REDSHIFT_STS_URL, PATCHBAY_<GOOGLE KIND>_TOKEN_URL (google-pubsub,
    # google-cloud-storage, google-cloud-service-account, firebase), PATCHBAY_SNOWFLAKE_API_URL.
    kind_overrides: dict[str, str] = Field(default_factory=dict, exclude=True)

    @cached_property
    def _dotenv(self) -> dict[str, str | None]:
        path = Path(".env")
        return dict(dotenv_values(path)) if path.exists() else {}

    def kind_setting(self, kind: str, suffix: str) -> str | None:
        """A per-kind setting such as PATCHBAY_SLACK_CLIENT_ID; overrides > environment > .env."""
        name = kind_env_name(kind, suffix)
        if name in self.kind_overrides:
            return self.kind_overrides[name] or None
        value = os.environ.get(name)
        if value is None:
            value = self._dotenv.get(name)
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def site_origin(self) -> str:
        return self.site_url.rstrip("/")

    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_redirect_origins.split(",") if o.strip()]

    def nameservers(self) -> list[tuple[str, int]]:
        result: list[tuple[str, int]] = []
        for item in (self.dns_nameservers or "").split(","):
            item = item.strip()
            if not item:
                continue
            host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "53")
            result.append((host or item, int(port or 53)))
        return result

    def webhook_retry_delays(self) -> list[float]:
        """PATCHBAY_WEBHOOK_RETRY_SCHEDULE as seconds; ValueError when it is not a list of them."""
        delays = [float(item) for item in self.webhook_retry_schedule.split(",") if item.strip()]
        if any(not 0 <= delay <= 30 * 86400 for delay in delays):
            raise ValueError("each delay must be between 0 and 2592000 seconds")
        return delays

    def user_host_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [
            ipaddress.ip_network(item.strip())
            for item in self.user_host_allowed_networks.split(",")
            if item.strip()
        ]

    @field_validator("user_host_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                try:
                    ipaddress.ip_network(item.strip())
                except ValueError:
                    raise ValueError(f"'{item.strip()}' is not a network in CIDR form (10.0.0.0/8)") from None
        return value

    def domain_connect_provider_map(self) -> dict[str, str]:
        providers: dict[str, str] = {}
        for pair in self.domain_connect_providers.split(","):
            endpoint, sep, name = pair.strip().partition("=")
            if sep and endpoint.strip():
                providers[endpoint.strip()] = name.strip()
        return providers
