"""The `aws-s3` and `aws-redshift` kinds: a name the user chooses and an access key proved with STS
GetCallerIdentity (whose account id is kept for the display name); Redshift's extra settings; and
Redshift's direct variant, a PostgreSQL-protocol server (see `providers.pgwire`).

As in PostHog the name is the id and is never overwritten: a second create with the same name is
refused. Role-based configs (`aws_role_arn`, optional `external_id`) are proved by assuming the role
with Patchbay's own AWS identity and trying it on S3 or the Redshift Data API (roles.py); without
that identity configured they are refused with a message saying so."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.providers.aws.roles import prove_redshift_role, prove_s3_role
from patchbay.providers.aws.sts import caller_account
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.credential_check import has_blank_or_control
from patchbay.providers.fields import duplicate_name, required_text
from patchbay.providers.pgwire import check_connection, read_server_config

ROLE_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:iam::\d{12}:role/.+")
WORKGROUP_ARN = re.compile(r"^arn:aws(-[a-z-]+)?:redshift-serverless:[a-z0-9-]+:\d{12}:workgroup/.+")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class AWSS3Config(BaseModel):
    """`config` of an `aws-s3` integration: a name of your choosing and either an access key, proved
    with STS GetCallerIdentity, or a role (`aws_role_arn`, with the `external_id` its trust policy asks
    for) that Patchbay's own AWS identity assumes and tries with S3 ListBuckets. The name is the
    integration's id; an access key is stored encrypted."""

    name: str = Field(
        description="A name for these credentials, unique in the project.", examples=["prod-aws"]
    )
    aws_access_key_id: str | None = Field(
        None, description="Access key ID. Never returned.", json_schema_extra={"writeOnly": True}
    )
    aws_secret_access_key: str | None = Field(
        None, description="Secret access key. Never returned.", json_schema_extra={"writeOnly": True}
    )
    aws_role_arn: str | None = Field(
        None,
        description="A role to assume instead of an access key.",
        examples=["arn:aws:iam::123456789012:role/exports"],
    )
    external_id: str | None = Field(None, description="The external ID the role's trust policy requires.")


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
    aws_role_arn: str | None = Field(None, description="A role to assume instead of an access key.")
    external_id: str | None = Field(None, description="The external ID the role's trust policy requires.")
    region: str | None = Field(
        None, description="The Data API's region for a role (default: the workgroup's, else us-east-1)."
    )
    host: str | None = None
    port: int | None = None
    password: str | None = Field(None, json_schema_extra={"writeOnly": True})
    ssl_mode: str | None = None


def _role(config: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """The name, the role ARN and the external ID of a role-based config, checked for form."""
    name = required_text(config, "name", "A name", "AWS")
    arn = required_text(config, "aws_role_arn", "A valid role ARN", "AWS")
    if not ROLE_ARN.match(arn):
        raise ValidationError("AWS role ARN is not valid")
    external_id = config.get("external_id")
    if external_id is not None and (
        not isinstance(external_id, str)
        or not 2 <= len(external_id) <= 1224
        or has_blank_or_control(external_id)
    ):
        raise ValidationError(
            "External ID must be a string of 2 to 1224 characters without spaces", attr="external_id"
        )
    return name, arn, external_id


def _role_config(name: str, arn: str, external_id: str | None) -> dict[str, Any]:
    public: dict[str, Any] = {"name": name, "aws_role_arn": arn}
    if external_id is not None:
        public["external_id"] = external_id  # AWS's advice: an external ID is not a secret
    return public


async def _s3_role(settings: Settings, config: Mapping[str, Any]) -> BuiltCredentials:
    name, arn, external_id = _role(config)
    await prove_s3_role(settings, arn, external_id)
    return BuiltCredentials(
        integration_id=name,
        config=_role_config(name, arn, external_id),
        refuse_existing=duplicate_name(name),
    )


def _data_api_region(config: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    region = config.get("region")
    if region is not None:
        if not isinstance(region, str) or not REGION.match(region):
            raise ValidationError("Region must be an AWS region such as us-east-1", attr="region")
        return region
    workgroup = extra.get("workgroup_arn")
    return str(workgroup).split(":")[3] if workgroup else "us-east-1"


async def _redshift_role(settings: Settings, config: Mapping[str, Any]) -> BuiltCredentials:
    name, arn, external_id = _role(config)
    extra = _redshift_extras(config)
    region = _data_api_region(config, extra)
    await prove_redshift_role(settings, arn, external_id, region)
    public = {**_role_config(name, arn, external_id), **extra}
    if config.get("region") is not None:
        public["region"] = region
    return BuiltCredentials(integration_id=name, config=public, refuse_existing=duplicate_name(name))


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
            return await _s3_role(settings, config)
        return await _access_key(settings, "aws-s3", config)


class AWSRedshiftCredentials:
    config_model = AWSRedshiftConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        if "aws_role_arn" in config:
            return await _redshift_role(settings, config)
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
