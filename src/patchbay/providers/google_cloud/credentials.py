"""The Google service-account kinds: `google-pubsub` and `google-cloud-storage` (a key file, proved by
a token exchange; the account's email is the id), `firebase` (the same for Firebase Cloud Messaging;
the key's project is the id) and `google-cloud-service-account` (the key's fields typed in).

PostHog takes the key file as a multipart upload named `key`; in a JSON body Patchbay reads it from
`config.key` (the file's text or its object) or `config.key_info` (the object)."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.google_cloud.impersonation import impersonate
from patchbay.providers.google_cloud.token import KeyRefused, exchange, require_google_token_uri
from patchbay.providers.push_identity import read_push_identity

KEY_FAILED = "Failed to authenticate with provided service account key"
KEY_FIELDS = ("private_key", "private_key_id", "token_uri")
KEY_INCOMPLETE = (
    "Provide the service account's private_key, private_key_id and token_uri together, or none of them "
    "to impersonate the account."
)
CLAIMED = (
    "The service account {integration_id} is already connected by impersonation in another organization. "
    "Use a different service account or contact support if you believe this is a mistake."
)


class GoogleKeyConfig(BaseModel):
    """`config` of a `google-pubsub`, `google-cloud-storage` or `firebase` integration: the service
    account's JSON key file (multipart field `key` in PostHog). Patchbay exchanges it for an access
    token to prove it; the key and the token are stored encrypted."""

    key: dict[str, Any] | str | None = Field(None, description="The JSON key file, as text or as an object.")
    key_info: dict[str, Any] | None = Field(
        None, description="The JSON key file's object (Firebase's field)."
    )


class ServiceAccountConfig(BaseModel):
    """`config` of a `google-cloud-service-account` integration: the account and its project, and
    either the key's fields, proved by a token exchange (the private key is stored encrypted), or
    none of them: Patchbay's own service account then impersonates the account (it must hold the
    Service Account Token Creator role on it), and one organization only may connect it that way."""

    service_account_email: str = Field(examples=["exporter@my-project.iam.gserviceaccount.com"])
    project_id: str = Field(examples=["my-project"])
    private_key: str | None = Field(None, json_schema_extra={"writeOnly": True})
    private_key_id: str | None = Field(None, json_schema_extra={"writeOnly": True})
    token_uri: str | None = Field(None, examples=["https://oauth2.googleapis.com/token"])


def read_key(config: dict[str, Any], missing: str) -> dict[str, Any]:
    raw = config.get("key_info") or config.get("key")
    if not raw:
        raise ValidationError(missing)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValidationError("The key file is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ValidationError("The key file is not valid JSON")
    return dict(raw)


async def _prove(settings: Settings, kind: str, key_info: dict[str, Any], refused: str) -> Any:
    key_info["token_uri"] = require_google_token_uri(key_info.get("token_uri"))
    try:
        return await exchange(settings, kind, key_info)
    except KeyRefused:
        raise ValidationError(refused) from None


class GoogleCloudKeyCredentials:
    """`google-pubsub` and `google-cloud-storage` (one instance per kind: the scope differs)."""

    config_model = GoogleKeyConfig

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        key_info = read_key(config, "Key file not provided")
        token = await _prove(settings, self.kind, key_info, KEY_FAILED)
        return BuiltCredentials(
            integration_id=token.service_account_email,
            config={"expires_in": token.expires_in, "refreshed_at": int(time.time())},
            sensitive_config={"key_info": key_info, "access_token": token.access_token},
        )


class FirebaseConfig(GoogleKeyConfig):
    """`config` of a `firebase` integration: the service account's JSON key file, and optionally the
    push identity verification settings (setting them needs project admin)."""

    push_identity_verification: bool | None = None
    push_identity_public_keys: list[str] | None = Field(None, description="PEM public keys (at most 10).")


class FirebaseCredentials:
    config_model = FirebaseConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        key_info = read_key(config, "Firebase service account key must be provided")
        push_identity = read_push_identity(config)
        token = await _prove(
            settings,
            "firebase",
            key_info,
            "Failed to authenticate with provided Firebase service account key",
        )
        project_id = key_info.get("project_id")
        if not project_id or not isinstance(project_id, str):
            raise ValidationError("Service account key must contain a project_id")
        return BuiltCredentials(
            integration_id=project_id,
            config={
                "project_id": project_id,
                "expires_in": token.expires_in,
                "refreshed_at": int(time.time()),
                **push_identity,
            },
            sensitive_config={"key_info": key_info, "access_token": token.access_token},
        )


class ServiceAccountCredentials:
    config_model = ServiceAccountConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        email, project_id = config.get("service_account_email"), config.get("project_id")
        if not (email and project_id):
            raise ValidationError("Service account email and project ID must be provided")
        if not isinstance(email, str) or not isinstance(project_id, str):
            raise ValidationError("Service account email and project ID must be strings")
        key_fields = [config.get(name) for name in KEY_FIELDS]
        if not any(key_fields):
            await impersonate(settings, email)
            return BuiltCredentials(
                integration_id=email,
                config={"project_id": project_id, "service_account_email": email},
                one_organization_only=CLAIMED,
                one_organization_only_attr="service_account_email",
            )
        if not all(isinstance(value, str) and value for value in key_fields):
            raise ValidationError(KEY_INCOMPLETE)
        private_key, private_key_id, token_uri = (str(value) for value in key_fields)
        key_info = {
            "type": "service_account",
            "client_email": email,
            "project_id": project_id,
            "private_key": private_key,
            "private_key_id": private_key_id,
            "token_uri": token_uri,
        }
        await _prove(settings, "google-cloud-service-account", key_info, KEY_FAILED)
        return BuiltCredentials(
            integration_id=None,
            config={"project_id": project_id, "service_account_email": email},
            sensitive_config={
                "private_key": private_key,
                "private_key_id": private_key_id,
                "token_uri": key_info["token_uri"],
            },
            # PostHog's id: the project is part of it so that projects of one organization can share
            # an account without overwriting each other.
            scoped_id=lambda project: f"{email}-{project}-key-file",
        )
