"""Rules of the Domain Connect routes: is a domain's DNS provider supported, and the signed apply
URL that sets up an email sender's or a proxy record's DNS records in one click."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from patchbay.domain_connect import dns_insights, template_store
from patchbay.domain_connect.discovery import TransientLookupFailure, discover, provider_settings
from patchbay.domain_connect.schemas import ApplyUrlRequest
from patchbay.domain_connect.signing import SigningKeyInvalid, load_private_key, signed_query
from patchbay.email_sender.providers import get_provider
from patchbay.email_sender.repository import EmailSenderRepository
from patchbay.email_sender.service import DEFAULT_MAIL_FROM
from patchbay.kit.convertors import fits_row_id
from patchbay.kit.errors import NotFound, ValidationError
from patchbay.kit.hostnames import is_hostname, is_label, normalize, root_and_host
from patchbay.models import Integration
from patchbay.proxy_record.repository import ProxyRecordRepository
from patchbay.tenancy.context import ProjectContext
from patchbay.tenancy.dependencies import require_project_admin

log = logging.getLogger(__name__)

APPLY_URL_FAILED = "Error generating apply URL. Please try again later or contact support."
SIGNING_KEY_MISSING = (
    "Automatic DNS configuration is temporarily unavailable for this provider. "
    "Please configure your DNS records manually."
)
LOOKUP_FAILED = (
    "We could not reach the DNS of {domain} or its DNS provider just now. Please try again in a moment."
)
EMAIL_CONTEXT_FAILED = "Validation error resolving email context. Please try again later or contact support."
# Without the DMARC group: Cloudflare ignores TXT conflict matching and would publish a second DMARC record.
EMAIL_GROUPS_WITHOUT_DMARC = ("verification", "dkim", "spf", "mailfrom")


class ContextUnresolvable(ValueError):
    pass


@dataclass(frozen=True)
class ApplyTarget:
    root: str
    host: str
    service_id: str
    variables: dict[str, str]
    group_ids: tuple[str, ...]


async def check(ctx: ProjectContext, domain: str | None) -> dict[str, Any]:
    if not domain or not domain.strip():
        raise ValidationError("domain query parameter is required")
    runtime = ctx.runtime
    providers = runtime.settings.domain_connect_provider_map()
    if is_label(normalize(domain)):
        # One label (`localhost`): PostHog looks it up, finds nothing and answers "not supported".
        # No public DNS answers for such a name, so neither do we ask.
        return {
            "supported": False,
            "provider_name": None,
            "available_providers": [{"endpoint": e, "name": n} for e, n in providers.items()],
            "dns_host": None,
            "existing_email_tools": [],
        }
    if not is_hostname(normalize(domain)):
        raise ValidationError("Enter a valid domain name, e.g. example.com.", attr="domain")
    root, _ = root_and_host(domain)
    try:
        found, dns_host, email_tools = await asyncio.gather(
            discover(runtime.settings, runtime.cache, root),
            dns_insights.dns_host(runtime.settings, runtime.cache, root),
            dns_insights.existing_email_tools(runtime.settings, runtime.cache, root),
        )
    except TransientLookupFailure as exc:
        log.info("domain connect discovery failed transiently", extra={"domain": root, "reason": str(exc)})
        raise ValidationError(LOOKUP_FAILED.format(domain=root)) from None
    return {
        "supported": found is not None,
        "provider_name": found.provider_name if found else None,
        "available_providers": [] if found else [{"endpoint": e, "name": n} for e, n in providers.items()],
        "dns_host": dns_host,
        "existing_email_tools": email_tools,
    }


def _validate(ctx: ProjectContext, body: ApplyUrlRequest) -> None:
    if (
        body.provider_endpoint
        and body.provider_endpoint not in ctx.runtime.settings.domain_connect_provider_map()
    ):
        raise ValidationError("Unsupported provider endpoint")
    if body.context == template_store.EMAIL and body.integration_id is None:
        raise ValidationError("integration_id is required for email context")
    if body.context == template_store.PROXY and body.proxy_record_id is None:
        raise ValidationError("proxy_record_id is required for proxy context")
    if body.context not in (template_store.EMAIL, template_store.PROXY):
        raise ValidationError("context must be 'email' or 'proxy'")


async def _email_sender(ctx: ProjectContext, integration_id: int) -> Integration:
    if not fits_row_id(integration_id):
        raise NotFound()  # no row has it (the column is 32-bit): not a database error
    repo = EmailSenderRepository(ctx.session, ctx.project.id, ctx.organization_id)
    kind = await repo.kind_of(integration_id)
    if kind is None:
        raise NotFound()
    sender = await repo.get(integration_id)
    if sender is None:
        raise ContextUnresolvable(f"integration of kind {kind} is not an email sender")
    return sender


async def _email_target(ctx: ProjectContext, integration_id: int) -> ApplyTarget:
    settings = ctx.runtime.settings
    sender = await _email_sender(ctx, integration_id)
    config = sender.config or {}
    domain = str(config.get("domain") or "")
    mail_from = str(config.get("mail_from_subdomain") or DEFAULT_MAIL_FROM)
    if not domain:
        raise ContextUnresolvable("sender without a domain")
    # Verifying (re)starts the provider's verification and hands out the tokens the template needs.
    result = await get_provider(settings, str(config.get("provider") or "ses")).verify_domain(
        domain, mail_from
    )
    records = result.get("dnsRecords", [])
    verify_token = next(
        (
            r["recordValue"]
            for r in records
            if r.get("type") == "verification"
            and r.get("recordType") == "TXT"
            and str(r.get("recordHostname", "")).startswith("_amazonses")
        ),
        None,
    )
    dkim = [r["recordHostname"].split("._domainkey.")[0] for r in records if r.get("type") == "dkim"]
    if not verify_token or len(dkim) < 3:
        raise ContextUnresolvable(
            "Could not extract all required SES tokens. Please retry domain verification first."
        )
    root, host = root_and_host(domain)
    has_dmarc = await dns_insights.has_dmarc(settings, domain)
    return ApplyTarget(
        root=root,
        host=host,
        service_id=template_store.service_id(settings, template_store.EMAIL),
        variables={
            "verifyToken": verify_token,
            "dkim1": dkim[0],
            "dkim2": dkim[1],
            "dkim3": dkim[2],
            "mailFromSub": mail_from,
            "sesRegion": settings.ses_region,
        },
        group_ids=() if has_dmarc is False else EMAIL_GROUPS_WITHOUT_DMARC,
    )


async def _proxy_target(ctx: ProjectContext, proxy_record_id: Any) -> ApplyTarget:
    record = await ProxyRecordRepository(ctx.session, ctx.organization_id).get_model(proxy_record_id)
    if record is None:
        raise NotFound()
    root, host = root_and_host(record.domain)
    return ApplyTarget(
        root=root,
        host=host,
        service_id=template_store.service_id(ctx.runtime.settings, template_store.PROXY),
        variables={"target": record.target_cname},
        group_ids=(),
    )


async def _build_url(ctx: ProjectContext, target: ApplyTarget, body: ApplyUrlRequest) -> str:
    settings, cache = ctx.runtime.settings, ctx.runtime.cache
    try:
        endpoint = body.provider_endpoint
        if not endpoint:
            found = await discover(settings, cache, target.root)
            if found is None:
                raise ValueError("Domain Connect is not available for this domain's DNS provider")
            endpoint = found.endpoint
        # Every template carries syncPubKeyDomain, so every provider must get a signed request.
        key = load_private_key(settings)
        if key is None:
            raise ValidationError(SIGNING_KEY_MISSING)
        document = await provider_settings(settings, cache, endpoint, target.root)
        if document is None:
            raise ValueError("the DNS provider offers no synchronous flow for this domain")
    except (TransientLookupFailure, SigningKeyInvalid, ValueError) as exc:
        log.info("domain connect apply url failed", extra={"domain": target.root, "reason": str(exc)})
        raise ValidationError(APPLY_URL_FAILED) from None
    params: list[tuple[str, str]] = [("domain", target.root)]
    if target.host:
        params.append(("host", target.host))
    params += list(target.variables.items())
    if target.group_ids:
        params.append(("groupId", ",".join(target.group_ids)))
    if body.redirect_uri:
        params.append(("redirect_uri", body.redirect_uri))
    base = (
        f"{document['urlSyncUX']}/v2/domainTemplates/providers/{settings.domain_connect_provider_id}"
        f"/services/{target.service_id}/apply"
    )
    return f"{base}?{signed_query(params, key, settings.domain_connect_key_id)}"


async def apply_url(ctx: ProjectContext, body: ApplyUrlRequest) -> dict[str, str]:
    require_project_admin(ctx)
    _validate(ctx, body)
    if body.context == template_store.PROXY:
        return {"url": await _build_url(ctx, await _proxy_target(ctx, body.proxy_record_id), body)}
    assert body.integration_id is not None
    try:
        target = await _email_target(ctx, body.integration_id)
    except ContextUnresolvable as exc:
        log.info("domain connect email context unresolvable", extra={"reason": str(exc)})
        raise ValidationError(EMAIL_CONTEXT_FAILED) from None
    url = await _build_url(ctx, target, body)
    await _mark_auto_setup(ctx, body.integration_id)
    return {"url": url}


async def _mark_auto_setup(ctx: ProjectContext, integration_id: int) -> None:
    repo = EmailSenderRepository(ctx.session, ctx.project.id, ctx.organization_id)
    sender = await repo.get(integration_id, for_update=True)
    if sender is not None:
        sender.config = {**(sender.config or {}), "setup_method": "auto"}
        await ctx.session.commit()
