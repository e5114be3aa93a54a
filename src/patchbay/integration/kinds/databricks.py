"""Databricks: a workspace hostname and OAuth machine-to-machine credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.errors import ValidationError

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext

FIELDS = ("server_hostname", "client_id", "client_secret")


class DatabricksConfig(BaseModel):
    """`config` of a `databricks` integration: a workspace and an OAuth machine-to-machine service
    principal. The hostname must resolve to a public address; the credentials are stored encrypted."""

    server_hostname: str = Field(
        description="The workspace hostname, without a scheme.",
        examples=["dbc-a1b2c3d4-e5f6.cloud.databricks.com"],
    )
    client_id: str = Field(
        description="The service principal's OAuth client id. Never returned.",
        json_schema_extra={"writeOnly": True},
    )
    client_secret: str = Field(
        description="The service principal's OAuth secret. Never returned.",
        json_schema_extra={"writeOnly": True},
    )


@kind_builder("databricks", config=DatabricksConfig)
async def build_databricks(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
    values = [config.get(name) for name in FIELDS]
    if any(v is None or v == "" for v in values):
        raise ValidationError("Server hostname, client ID, and client secret must be provided")
    if not all(isinstance(v, str) for v in values):
        raise ValidationError("Server hostname, client ID, and client secret must be strings")
    hostname, client_id, client_secret = (str(v) for v in values)
    if hostname.startswith("http"):
        raise ValidationError(
            "Databricks integration is not valid: 'server_hostname' should not be a full URL"
        )
    try:
        await ensure_public_host(ctx.runtime.settings, hostname)
    except HostNotAllowed:
        raise ValidationError(
            f"Databricks integration error: could not validate hostname '{hostname}'"
        ) from None
    return BuiltIntegration(
        integration_id=hostname,
        config={"server_hostname": hostname},
        sensitive_config={"client_id": client_id, "client_secret": client_secret},
    )
