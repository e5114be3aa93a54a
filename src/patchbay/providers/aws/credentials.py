"""The `aws-s3` and `aws-redshift` kinds: a name the user chooses and an access key proved with STS
GetCallerIdentity (whose account id is kept for the display name); Redshift's extra settings; and
Redshift's direct variant, a PostgreSQL-protocol server (see `providers.pgwire`).

As in PostHog the name is the id and is never overwritten: a second create with the same name is
refused. Role-based configs (`aws_role_arn`) are checked for form; proving them needs an AWS role
of the server's own, which Patchbay does not have, so they are refused with a message saying so."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.providers.aws.sts import caller_account
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.fields import duplicate_name, required_text
from patchbay.providers.pgwire import check_connection, read_server_config

ROLE_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:iam::\d{12}:role/.+")
WORKGROUP_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:redshift-serverless:[a-z0-9-]+:\d{12}:workgroup/.+")
ROLES_UNSUPPORTED = (
    "AWS role ARN integrations need an AWS role of this server's own to assume yours, and none is "
    "configured. Connect with an access key instead."
)


class AWSS3Config(BaseModel):
    """`config` of an `aws-s3` integration: a name of your choosing and an access key, proved with STS
    GetCallerIdentity. The name is the integration's id; the key is stored encrypted."""

    name: str = Field(
        description="A name for these credentials, unique in the project.", examples=["prod-aws"]
    )
    aws_access_key_id: str = Field(
        description="Access key ID. Never returned.", json_schema_extra={"writeOnly": True}
    )
    aws_secret_access_key: str = Field(
        description="Secret access key. Never returned.", json_schema_extra={"writeOnly": True}
    )


class AWSRedshiftConfig(BaseModel):
    """`config` of an `aws-redshift` integration: either a name, an access key and the database `user`
    (plus optional `groups`, `auto_create`, `workgroup_arn`), or a cluster reached directly (`host`,
    `port`, `user`, `password`, `ssl_mode`), which Patchbay connects to once."""

    name: str | None = Field(None, description="A name for access-key credentials, unique in the project.")
    aws_access_key_id: str | None = Field(None, json_schema_extra={"writeOnly": True})
    aws_secret_access_key: str | None = Field(None, json_schema_extra={"writeOnly": True})
    user: str | None = Field(None, description="The database user.")
    groups: list[str] | None = None
    auto_create: bool | None = None
    workgroup_arn: str | None = None
    host: str | None = None
    port: int | None = None
    password: str | None = Field(None, json_schema_extra={"writeOnly": True})
    ssl_mode: str | None = None


def _role_based(config: Mapping[str, Any]) -> BuiltCredentials:
    required_text(config, "name", "A name", "AWS")
    arn = required_text(config, "aws_role_arn", "A valid role ARN", "AWS")
    if not ROLE_ARN.match(arn):
        raise ValidationError("AWS role ARN is not valid")
    raise ValidationError(ROLES_UNSUPPORTED)


def _redshift_extras(config: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {"user": required_text(config, "user", "Username", "AWS")}
    groups = config.get("groups")
    if groups is not None:
        if not isinstance(groups, list) or not groups or any(not isinstance(g, str) for g in groups):
            raise ValidationError("Groups must be a list of at least one string")
        extra["groups"] = groups
    auto_create = config.get("auto_create")
    if auto_create is not None:
        if not isinstance(auto_create, bool):
            raise ValidationError("Auto create can only be True or False")
        extra["auto_create"] = auto_create
    workgroup_arn = config.get("workgroup_arn")
    if workgroup_arn is not None:
        if not isinstance(workgroup_arn, str) or not WORKGROUP_ARN.match(workgroup_arn):
            raise ValidationError("Workgroup ARN must be a valid Redshift Serverless workgroup ARN")
        extra["workgroup_arn"] = workgroup_arn
    return extra


async def _access_key(
    settings: Settings, kind: str, config: Mapping[str, Any], extra_of: Any = None
) -> BuiltCredentials:
    name = required_text(config, "name", "A name", "AWS")
    key_id = required_text(config, "aws_access_key_id", "Access key ID", "AWS")
    secret = required_text(config, "aws_secret_access_key", "Secret access key", "AWS")
    extra = extra_of(config) if extra_of is not None else {}
    account = await caller_account(settings, kind, key_id, secret)
    return BuiltCredentials(
        integration_id=name,
        config={"name": name, "aws_account_id": account, **extra},
        sensitive_config={"aws_access_key_id": key_id, "aws_secret_access_key": secret},
        refuse_existing=duplicate_name(name),
    )


class AWSS3Credentials:
    config_model = AWSS3Config

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        if "aws_role_arn" in config:
            return _role_based(config)
        return await _access_key(settings, "aws-s3", config)


class AWSRedshiftCredentials:
    config_model = AWSRedshiftConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        if "aws_role_arn" in config:
            return _role_based(config)
        # AWS-key configs carry `user` too (the database user), so they are recognised first.
        if "aws_access_key_id" in config or "aws_secret_access_key" in config:
            return await _access_key(settings, "aws-redshift", config, _redshift_extras)
        if any(key in config for key in ("host", "port", "user", "password")):
            server = await read_server_config(settings, config, "aws-redshift")
            await check_connection(server, label="Redshift", timeout=settings.http_timeout)
            return BuiltCredentials(
                integration_id=None,
                config=server.public_config(),
                sensitive_config={"password": server.password},
                scoped_id=server.scoped_id,
            )
        raise ValidationError("Missing required inputs")
