"""AWS calls through boto3, classified once: STS GetCallerIdentity (it needs no IAM permission, so
it proves an access key without assuming any policy, and names the key's account) and the client
factory the role variants use (roles.py). Endpoints are PATCHBAY_<KIND>_STS_URL and friends (AWS's
own by default). boto3 is synchronous: calls run in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from patchbay.config import Settings
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
}
UNREADABLE = "AWS sent an answer we could not read. Please try again later."
T = TypeVar("T")


def client(
    settings: Settings,
    service: str,
    endpoint_url: str | None,
    credentials: tuple[str, str, str | None],
    region: str = "us-east-1",
) -> Any:
    """A boto3 client with Patchbay's timeouts and no retries (a create request waits on it)."""
    # boto3 and botocore cost ~8 MB per worker: loaded on the first AWS check, in its worker thread.
    import boto3
    from botocore.config import Config

    timeout = max(1.0, float(settings.http_timeout))
    key_id, secret, session_token = credentials
    # A session per call: boto3's default session must not create clients from several threads.
    return boto3.session.Session().client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=session_token,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 1},
            s3={"addressing_style": "path"},
        ),
    )


def call(action: Callable[[], T], refused: Callable[[ClientError], Exception]) -> T:
    """Run one AWS call: outages and rate limits as the shared envelopes, a refusal (a 4xx that is not
    throttling) as `refused` words it."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    try:
        return action()
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError):
        raise ProviderUnreachable(
            "AWS could not be reached while we checked the credentials. Please try again."
        ) from None
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if exc.response.get("Error", {}).get("Code") in THROTTLED or status == 429:
            raise ProviderRateLimited("AWS", None) from None
        if status >= 500:
            raise ProviderUnavailable(
                "AWS answered with an error while we checked the credentials. Please try again later."
            ) from None
        raise refused(exc) from None
    except ResponseParserError:
        raise ProviderUnavailable(UNREADABLE) from None
    except BotoCoreError as exc:
        raise ValidationError(f"Could not validate AWS credentials: {type(exc).__name__}") from None


def message(exc: ClientError) -> str:
    """AWS's words for a refusal: they name the problem (an invalid token, a signature mismatch, the
    caller and the role) and never a secret."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Message") or error.get("Code") or status)


def _caller_account(settings: Settings, kind: str, access_key_id: str, secret_access_key: str) -> str:
    sts = client(
        settings, "sts", settings.kind_setting(kind, "STS_URL"), (access_key_id, secret_access_key, None)
    )
    identity = call(
        sts.get_caller_identity,
        lambda exc: ValidationError(f"AWS credentials are not valid: {message(exc)}"),
    )
    account = identity.get("Account")
    if not isinstance(account, str) or not account:
        raise ProviderUnavailable(UNREADABLE)
    return account


async def caller_account(settings: Settings, kind: str, access_key_id: str, secret_access_key: str) -> str:
    """The AWS account id of an access key, or the envelope saying why it could not be proved."""
    return await asyncio.to_thread(_caller_account, settings, kind, access_key_id, secret_access_key)
