"""Snowflake: a name of the user's choosing, an account, a user and a password or a key pair, proved
over Snowflake's REST endpoints (see client.py). PostHog's checks and words; the name is the id and
is never overwritten."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.base import BuiltCredentials, Provider
from patchbay.providers.fields import duplicate_name
from patchbay.providers.snowflake import simulator
from patchbay.providers.snowflake.client import check_keypair, check_password, keypair_jwt

ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SnowflakeConfig(BaseModel):
    """`config` of a `snowflake` integration. `authentication_type` is `password` (default) or
    `keypair` (an RSA `private_key` in PEM, with its optional passphrase). Secrets are stored encrypted."""

    name: str = Field(examples=["prod-snowflake"])
    account: str = Field(examples=["myorg-myaccount"])
    user: str = Field(examples=["POSTHOG_EXPORT"])
    authentication_type: str = Field("password", examples=["password", "keypair"])
    password: str | None = Field(None, json_schema_extra={"writeOnly": True})
    private_key: str | None = Field(None, json_schema_extra={"writeOnly": True})
    private_key_passphrase: str | None = Field(None, json_schema_extra={"writeOnly": True})


class SnowflakeCredentials:
    config_model = SnowflakeConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        name, account, user = config.get("name"), config.get("account"), config.get("user")
        auth = config.get("authentication_type", "password")
        secrets = [config.get(k) for k in ("password", "private_key", "private_key_passphrase")]
        if not (name and account and user):
            raise ValidationError("Name, account, and user must be provided")
        if not all(isinstance(value, str) for value in (name, account, user, auth)):
            raise ValidationError("Name, account, user, and authentication type must be strings")
        if not all(value is None or isinstance(value, str) for value in secrets):
            raise ValidationError("Password, private key, and private key passphrase must be strings")
        name, account, user, auth = str(name), str(account), str(user), str(auth)
        password, private_key, passphrase = (str(v) if v else None for v in secrets)
        if not ACCOUNT.fullmatch(account):
            raise ValidationError(f"Snowflake integration is not valid: invalid account identifier '{account}'")
        stored: dict[str, str] = {}
        if auth == "password":
            if not password:
                raise ValidationError("Password is required for password authentication")
            stored["password"] = password
        elif auth == "keypair":
            if not private_key:
                raise ValidationError("Private key is required for key-pair authentication")
            stored["private_key"] = private_key
            if passphrase:
                stored["private_key_passphrase"] = passphrase
        else:
            raise ValidationError(f"Invalid authentication type: {auth}")
        if password is not None and auth == "password":
            await check_password(settings, account, user, password)
        elif private_key is not None:
            await check_keypair(settings, account, user, keypair_jwt(account, user, private_key, passphrase))
        return BuiltCredentials(
            integration_id=name,
            config={"name": name, "account": account, "user": user, "authentication_type": auth},
            sensitive_config=stored,
            refuse_existing=duplicate_name(name),
        )


PROVIDER = registry.register(
    Provider(
        name="snowflake",
        display_name="Snowflake",
        kinds=("snowflake",),
        credential_kind=SnowflakeCredentials(),
        simulators=(simulator,),
    )
)
