"""PostgreSQL: a server the user names (host, port, user, password, TLS settings), proved by one real
connection. The password is stored encrypted; the id is PostHog's "{project}-{host}-{port}-{user}"."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, Provider
from patchbay.providers.pgwire import check_connection, read_server_config

KIND = "postgresql"


class PostgreSQLConfig(BaseModel):
    """`config` of a `postgresql` integration. The host must resolve to a public address (or one inside
    PATCHBAY_USER_HOST_ALLOWED_NETWORKS); Patchbay connects once to prove the credentials."""

    host: str = Field(description="Server hostname or IP address.", examples=["db.example.com"])
    port: int = Field(description="Server port.", examples=[5432])
    user: str = Field(description="The user to connect as.", examples=["posthog"])
    password: str = Field(description="The user's password. Never returned.", json_schema_extra={"writeOnly": True})
    ssl_mode: str = Field(
        "require",
        description="require, verify-ca or verify-full; prefer or disable only for hosts inside "
        "PATCHBAY_USER_HOST_ALLOWED_NETWORKS.",
    )
    ssl_root_cert: str | None = Field(
        None, description="PEM root certificate (contents), required for verify-ca and verify-full."
    )
    database: str | None = Field(None, description="Database the check connects to (default: the user's name).")


class PostgreSQLCredentials:
    config_model = PostgreSQLConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        server = await read_server_config(settings, config, KIND)
        await check_connection(server, label="PostgreSQL", timeout=settings.http_timeout)
        return BuiltCredentials(
            integration_id=None,
            config=server.public_config(),
            sensitive_config={"password": server.password},
            scoped_id=server.scoped_id,
        )


PROVIDER = registry.register(
    Provider(name="postgresql", display_name="PostgreSQL", kinds=(KIND,), credential_kind=PostgreSQLCredentials())
)
