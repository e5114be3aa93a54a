"""The role variants of `aws-s3` and `aws-redshift`: Patchbay's own AWS identity
(PATCHBAY_AWS_ROLE_ACCESS_KEY_ID / PATCHBAY_AWS_ROLE_SECRET_ACCESS_KEY) assumes the user's role with
STS AssumeRole (with the external ID the role's trust policy asks for), then tries the temporary
credentials where the kind will use them: S3 ListBuckets, or the Redshift Data API's ListStatements.
Nothing secret is stored: the role is re-assumed whenever it is used."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from patchbay.config import Settings
from patchbay.kit.errors import ProviderUnavailable, ValidationError
from patchbay.providers.aws.sts import UNREADABLE, call, client, message

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

SESSION_NAME = "patchbay-check"
NO_IDENTITY = (
    "AWS role ARN integrations need an AWS identity of this server's own to assume your role, and none "
    "is configured. Connect with an access key instead."
)
# A role that refuses ListBuckets may still reach the buckets it is meant for: the credentials work.
S3_PERMISSION_CODES = {"AccessDenied", "AllAccessDisabled"}


def _identity(settings: Settings) -> tuple[str, str, None]:
    key_id, secret = settings.aws_role_access_key_id, settings.aws_role_secret_access_key
    if not key_id or not secret:
        raise ValidationError(NO_IDENTITY)
    return key_id, secret, None


def _assume(settings: Settings, kind: str, role_arn: str, external_id: str | None) -> tuple[str, str, str]:
    sts = client(settings, "sts", settings.kind_setting(kind, "STS_URL"), _identity(settings))
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": 900}
    if external_id is not None:
        params["ExternalId"] = external_id

    def refused(exc: ClientError) -> Exception:
        return ValidationError(
            f"Could not assume the AWS role '{role_arn}': {message(exc)}. Check that the role's trust policy "
            "allows this server to assume it"
            + (" with this external ID." if external_id is not None else ".")
        )

    answer = call(lambda: sts.assume_role(**params), refused)
    credentials = answer.get("Credentials") if isinstance(answer, dict) else None
    try:
        return (
            str(credentials["AccessKeyId"]),  # type: ignore[index]
            str(credentials["SecretAccessKey"]),  # type: ignore[index]
            str(credentials["SessionToken"]),  # type: ignore[index]
        )
    except (KeyError, TypeError):
        raise ProviderUnavailable(UNREADABLE) from None


def _s3_refusal(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code")
    if code in S3_PERMISSION_CODES:
        return _Permitted()
    return ValidationError(f"S3 refused the AWS role's credentials: {message(exc)}")


class _Permitted(Exception):
    """S3 said the role may not list buckets: the credentials themselves were accepted."""


def check_s3_role(settings: Settings, role_arn: str, external_id: str | None) -> None:
    credentials = _assume(settings, "aws-s3", role_arn, external_id)
    s3 = client(settings, "s3", settings.kind_setting("aws-s3", "S3_URL"), credentials)
    try:
        call(s3.list_buckets, _s3_refusal)
    except _Permitted:
        return


def check_redshift_role(settings: Settings, role_arn: str, external_id: str | None, region: str) -> None:
    credentials = _assume(settings, "aws-redshift", role_arn, external_id)
    data = client(
        settings, "redshift-data", settings.kind_setting("aws-redshift", "DATA_API_URL"), credentials, region
    )
    call(
        lambda: data.list_statements(MaxResults=1),
        lambda exc: ValidationError(f"The AWS role may not use the Redshift Data API: {message(exc)}"),
    )


async def prove_s3_role(settings: Settings, role_arn: str, external_id: str | None) -> None:
    await asyncio.to_thread(check_s3_role, settings, role_arn, external_id)


async def prove_redshift_role(
    settings: Settings, role_arn: str, external_id: str | None, region: str
) -> None:
    await asyncio.to_thread(check_redshift_role, settings, role_arn, external_id, region)
