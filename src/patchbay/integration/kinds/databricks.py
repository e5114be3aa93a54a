"""Databricks: a workspace hostname and OAuth machine-to-machine credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.errors import ValidationError

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext

FIELDS = ("server_hostname", "client_id", "client_secret")


@kind_builder("databricks")
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
