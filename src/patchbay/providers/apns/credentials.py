"""The `apns` kind as PostHog stores it: config `{team_id, bundle_id, key_id, environment}`, the .p8
key in `sensitive_config`, integration id `<team id>.<bundle id>`, display name the bundle id. The
key must be an EC P-256 key; a provider token is signed with it and tried against APNs. Push identity
verification settings (providers.push_identity) are kept in config."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers.apns.client import BadKey, load_key, probe, provider_token
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.credential_check import check_failed
from patchbay.providers.push_identity import read_push_identity

FIELDS = ("signing_key", "key_id", "team_id_apple", "bundle_id")
REQUIRED = "All APNS fields are required: signing_key, key_id, team_id_apple, bundle_id"
NOT_STRINGS = "All APNS fields must be strings: signing_key, key_id, team_id_apple, bundle_id"
ENVIRONMENT = "APNS environment must be 'production' or 'sandbox'"
BAD_KEY = "The signing key must be the .p8 file's contents: an EC P-256 private key in PEM form"
# APNs reasons and what the user should look at.
REFUSALS: dict[str, tuple[str, str]] = {
    "InvalidProviderToken": ("Apple rejected the signing key: check the key ID, the team ID and the key.", "signing_key"),
    "ExpiredProviderToken": ("Apple rejected the signing key: check the key ID, the team ID and the key.", "signing_key"),
    "MissingProviderToken": ("Apple rejected the signing key: check the key ID, the team ID and the key.", "signing_key"),
    "TopicDisallowed": ("This key may not send notifications to this bundle ID.", "bundle_id"),
    "BadTopic": ("This key may not send notifications to this bundle ID.", "bundle_id"),
    "DeviceTokenNotForTopic": ("This key may not send notifications to this bundle ID.", "bundle_id"),
    "BadEnvironmentKeyInToken": ("This key is not valid in the chosen APNS environment.", "environment"),
}  # fmt: skip
OTHER_REFUSAL = "Apple refused the credentials ({reason})."


class ApnsConfig(BaseModel):
    """`config` of an `apns` integration: an APNs auth key (.p8) and the app it pushes to. The key
    is parsed, a provider token signed with it and tried against APNs; the key is stored encrypted."""

    signing_key: str = Field(description="The .p8 file's contents (PEM). Never returned.", json_schema_extra={"writeOnly": True})
    key_id: str = Field(description="The key's 10-character Key ID.", examples=["ABC123DEFG"])
    team_id_apple: str = Field(description="The Apple Developer Team ID.", examples=["DEF123GHIJ"])
    bundle_id: str = Field(description="The app's bundle identifier (the APNs topic).", examples=["com.example.app"])
    environment: str = Field("production", description="`production` or `sandbox` (development builds).")
    push_identity_verification: bool | None = Field(
        None, description="Whether pushes must carry a signed identity. Setting it needs project admin."
    )
    push_identity_public_keys: list[str] | None = Field(
        None, description="PEM public keys that verify push identities (at most 10). Setting them needs project admin."
    )


def _fields(config: dict[str, Any]) -> tuple[str, str, str, str]:
    values = [config.get(name) for name in FIELDS]
    if not all(values):
        raise ValidationError(REQUIRED)
    if not all(isinstance(v, str) for v in values):
        raise ValidationError(NOT_STRINGS)
    key, key_id, team, bundle = (str(v).strip() for v in values)
    if not all((key, key_id, team, bundle)):
        raise ValidationError(REQUIRED)
    return key, key_id, team, bundle


class ApnsCredentials:
    config_model = ApnsConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        signing_key, key_id, team, bundle = _fields(config)
        push_identity = read_push_identity(config)
        environment = config.get("environment", "production")
        if environment not in ("production", "sandbox"):
            raise ValidationError(ENVIRONMENT)
        try:
            key = load_key(signing_key)
        except BadKey:
            raise ValidationError(BAD_KEY, attr="signing_key") from None
        token = provider_token(key, key_id, team)
        try:
            verdict = await probe(settings, environment, token, bundle)
        except UpstreamError as exc:
            raise check_failed("Apple Push", exc, ValidationError(OTHER_REFUSAL.format(reason=exc.reason))) from None
        if verdict.reason is not None:
            detail, attr = REFUSALS.get(verdict.reason, (OTHER_REFUSAL.format(reason=verdict.reason), "signing_key"))
            raise ValidationError(detail, attr=attr)
        public = {"team_id": team, "bundle_id": bundle, "key_id": key_id, "environment": environment, **push_identity}
        return BuiltCredentials(f"{team}.{bundle}", public, {"signing_key": signing_key})
