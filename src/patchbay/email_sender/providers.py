"""Where sending domains live: Amazon SES (v2 API through boto3, in a worker thread) or `maildev`,
a local provider that needs no DNS and counts every domain as verified."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from patchbay.config import Settings
from patchbay.email_sender.records import PENDING, SUCCESS, check_records, required_present, ses_records
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable

SES = "ses"
MAILDEV = "maildev"
PROVIDERS = (SES, MAILDEV)
T = TypeVar("T")

THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}


class EmailProvider(Protocol):
    name: str

    async def create_domain(self, domain: str, mail_from_subdomain: str) -> None: ...

    async def verify_domain(self, domain: str, mail_from_subdomain: str) -> dict[str, Any]:
        """{"status": "success"|"pending", "dnsRecords": [...]}"""
        ...

    async def delete_domain(self, domain: str) -> None: ...


class MaildevProvider:
    name = MAILDEV

    async def create_domain(self, domain: str, mail_from_subdomain: str) -> None:
        return None

    async def verify_domain(self, domain: str, mail_from_subdomain: str) -> dict[str, Any]:
        return {"status": SUCCESS, "dnsRecords": []}

    async def delete_domain(self, domain: str) -> None:
        return None


class SesProvider:
    """SES v2 for the identity itself; the classic API for the `_amazonses` verification token and
    the MAIL FROM domain, which the v2 API does not hand out but the Domain Connect template needs."""

    name = SES

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self, service: str) -> Any:
        return _boto_client(service, self.settings.ses_endpoint_url or None, self.settings.ses_region)

    async def _call(self, func: Callable[[], T]) -> T:
        import botocore.exceptions  # boto3 loads on first SES use: ~23 MB a worker otherwise carries

        try:
            return await asyncio.to_thread(func)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in THROTTLE_CODES:
                raise ProviderRateLimited("Amazon SES", None) from None
            raise ProviderUnavailable(
                f"Amazon SES rejected the request ({code or 'unknown error'})."
            ) from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
            raise ProviderUnreachable("Amazon SES could not be reached. Please try again later.") from exc
        except botocore.exceptions.ReadTimeoutError as exc:
            raise ProviderUnreachable("Amazon SES did not respond in time. Please try again later.") from exc
        except botocore.exceptions.NoCredentialsError:
            raise ProviderUnavailable("Amazon SES credentials are not configured on this server.") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise ProviderUnavailable(f"Amazon SES failed ({type(exc).__name__}).") from None

    def _ensure_identity(self, domain: str, mail_from_subdomain: str) -> tuple[str | None, list[str], str]:
        v2, classic = self._client("sesv2"), self._client("ses")
        try:
            identity = v2.get_email_identity(EmailIdentity=domain)
        except v2.exceptions.NotFoundException:
            v2.create_email_identity(EmailIdentity=domain)
            identity = v2.get_email_identity(EmailIdentity=domain)
        token = classic.verify_domain_identity(Domain=domain).get("VerificationToken")
        dkim_tokens = list(identity.get("DkimAttributes", {}).get("Tokens") or [])
        if not dkim_tokens:
            dkim_tokens = list(classic.verify_domain_dkim(Domain=domain).get("DkimTokens") or [])
        classic.set_identity_mail_from_domain(
            Identity=domain,
            MailFromDomain=f"{mail_from_subdomain}.{domain}",
            BehaviorOnMXFailure="UseDefaultValue",
        )
        return token, dkim_tokens, str(identity.get("VerificationStatus", "PENDING")).upper()

    async def create_domain(self, domain: str, mail_from_subdomain: str) -> None:
        await self._call(lambda: self._ensure_identity(domain, mail_from_subdomain))

    async def verify_domain(self, domain: str, mail_from_subdomain: str) -> dict[str, Any]:
        token, dkim_tokens, ses_status = await self._call(
            lambda: self._ensure_identity(domain, mail_from_subdomain)
        )
        records = ses_records(domain, token, dkim_tokens, mail_from_subdomain, self.settings.ses_region)
        records = await check_records(self.settings, records)
        verified = ses_status == "SUCCESS" and required_present(records)
        return {"status": SUCCESS if verified else PENDING, "dnsRecords": records}

    async def delete_domain(self, domain: str) -> None:
        def delete() -> None:
            v2 = self._client("sesv2")
            try:
                v2.delete_email_identity(EmailIdentity=domain)
            except v2.exceptions.NotFoundException:
                pass

        await self._call(delete)


_clients: dict[tuple[str, str | None, str], Any] = {}
_clients_lock = threading.Lock()


def _boto_client(service: str, endpoint_url: str | None, region: str) -> Any:
    """boto3 clients are thread-safe once built, and building one is slow: keep one per target."""
    import boto3
    from botocore.config import Config as BotoConfig

    key = (service, endpoint_url, region)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(
                service,
                region_name=region,
                endpoint_url=endpoint_url,
                config=BotoConfig(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2}),
            )
        return _clients[key]


def get_provider(settings: Settings, name: str) -> EmailProvider:
    return MaildevProvider() if name == MAILDEV else SesProvider(settings)
