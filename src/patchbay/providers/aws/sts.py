"""STS GetCallerIdentity through boto3: it needs no IAM permission, so it proves an access key
without assuming any policy, and names the key's account. The endpoint is PATCHBAY_<KIND>_STS_URL
(AWS's global STS by default). boto3 is synchronous: the call runs in a worker thread."""

from __future__ import annotations

import asyncio

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from patchbay.config import Settings
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError

THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


def _caller_account(settings: Settings, kind: str, access_key_id: str, secret_access_key: str) -> str:
    timeout = max(1.0, float(settings.http_timeout))
    # A session per call: boto3's default session must not create clients from several threads.
    client = boto3.session.Session().client(
        "sts",
        region_name="us-east-1",
        endpoint_url=settings.kind_setting(kind, "STS_URL"),
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=None,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}),
    )
    try:
        identity = client.get_caller_identity()
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError):
        raise ProviderUnreachable(
            "AWS could not be reached while we checked the credentials. Please try again."
        ) from None
    except ClientError as exc:
        raise _refusal(exc) from None
    except ResponseParserError:
        raise ProviderUnavailable("AWS sent an answer we could not read. Please try again later.") from None
    except BotoCoreError as exc:
        raise ValidationError(f"Could not validate AWS credentials: {type(exc).__name__}") from None
    account = identity.get("Account")
    if not isinstance(account, str) or not account:
        raise ProviderUnavailable("AWS sent an answer we could not read. Please try again later.")
    return account


def _refusal(exc: ClientError) -> Exception:
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    error = exc.response.get("Error", {})
    if error.get("Code") in THROTTLED or status == 429:
        return ProviderRateLimited("AWS", None)
    if status >= 500:
        return ProviderUnavailable(
            "AWS answered with an error while we checked the credentials. Please try again later."
        )
    # AWS's message names the problem (an invalid token, a signature mismatch) and never the secret.
    return ValidationError(
        f"AWS credentials are not valid: {error.get('Message') or error.get('Code') or status}"
    )


async def caller_account(settings: Settings, kind: str, access_key_id: str, secret_access_key: str) -> str:
    """The AWS account id of an access key, or the envelope saying why it could not be proved."""
    return await asyncio.to_thread(_caller_account, settings, kind, access_key_id, secret_access_key)
