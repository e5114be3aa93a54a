"""Rules of email senders (integration kind `email`): who may send from which domain, the MAIL
FROM subdomain a domain uses, verification, renaming, and SES cleanup when the last sender goes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email

from patchbay.email_sender.blocked_domains import is_blocked
from patchbay.email_sender.providers import MAILDEV, PROVIDERS, SES, get_provider
from patchbay.email_sender.records import SUCCESS
from patchbay.email_sender.repository import EmailSenderRepository, domain_in_use
from patchbay.email_sender.schemas import EmailConfig
from patchbay.integration import events
from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit.errors import NotFound, ValidationError
from patchbay.kit.hostnames import is_label
from patchbay.models import Integration
from patchbay.tenancy.dependencies import require_project_admin

if TYPE_CHECKING:
    from patchbay.config import Settings
    from patchbay.runtime import Runtime
    from patchbay.tenancy.context import ProjectContext

DEFAULT_MAIL_FROM = "feedback"
_domain_locks: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True)
class SenderInput:
    email: str
    name: str
    provider: str
    mail_from_subdomain: str | None


def _required(config: dict[str, Any], field: str) -> Any:
    value = config.get(field)
    if value is None:
        raise ValidationError("This field is required.", code="required", attr=field)
    return value


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.", attr=field)
    if not value.strip():
        raise ValidationError("This field may not be blank.", code="blank", attr=field)
    return value.strip()


def mail_from_subdomain(value: Any) -> str | None:
    """None when not given or blank (the default applies); otherwise one lower-case DNS label."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not is_label(value.strip().lower()):
        raise ValidationError(
            "MAIL FROM subdomain must be a single DNS label: letters, digits and hyphens, "
            "not starting or ending with a hyphen.",
            attr="mail_from_subdomain",
        )
    return value.strip().lower()


def allowed_providers(settings: Settings) -> tuple[str, ...]:
    # maildev verifies nothing, so it is offered only where the server runs on it (PostHog: DEBUG).
    return PROVIDERS if settings.email_provider == MAILDEV else (SES,)


def parse_sender(settings: Settings, config: dict[str, Any]) -> SenderInput:
    raw_email = _text(_required(config, "email"), "email")
    try:
        email = validate_email(raw_email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError("Enter a valid email address.", attr="email") from None
    name = _text(_required(config, "name"), "name")
    provider = config.get("provider") or settings.email_provider
    if provider not in allowed_providers(settings):
        raise ValidationError(f'"{provider}" is not a valid choice.', code="invalid_choice", attr="provider")
    return SenderInput(email, name, provider, mail_from_subdomain(config.get("mail_from_subdomain")))


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1].lower()


def _shared_mail_from(domain: str, senders: list[Integration], wanted: str | None) -> str:
    """Every sender on a domain shares one SES identity, hence one MAIL FROM subdomain."""
    used = {str(s.config.get("mail_from_subdomain") or DEFAULT_MAIL_FROM) for s in senders}
    if len(used) > 1:
        raise ValidationError(
            f"Senders on {domain} use different MAIL FROM subdomains. "
            "Give them all the same MAIL FROM subdomain before adding another sender."
        )
    if used:
        (current,) = used
        if wanted is not None and wanted != current:
            raise ValidationError(
                f"{domain} already uses the MAIL FROM subdomain '{current}'. "
                "Use the same subdomain for every sender on this domain, or change it on the existing senders.",
                attr="mail_from_subdomain",
            )
        return current
    return wanted or DEFAULT_MAIL_FROM


def repository(ctx: ProjectContext) -> EmailSenderRepository:
    return EmailSenderRepository(ctx.session, ctx.project.id, ctx.organization_id)


async def build_sender(ctx: ProjectContext, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Validate a new sender and set up its domain at the provider: (integration_id, config)."""
    sender = parse_sender(ctx.runtime.settings, config)
    domain = domain_of(sender.email)
    if is_blocked(domain):
        raise ValidationError(f"Email domain {domain} is not supported. Please use a custom domain.")
    repo = repository(ctx)
    if await repo.domain_used_by_other_organization(domain):
        raise ValidationError(
            f"An email integration with domain {domain} already exists in another organization. "
            "Try a different domain or contact support if you believe this is a mistake."
        )
    lock = _domain_locks.setdefault(domain, asyncio.Lock())
    async with lock:  # one provider set-up per domain at a time in this process
        others = [
            s
            for s in await repo.same_domain_in_organization(domain)
            if not (
                s.project_id == ctx.project.id and s.integration_id == sender.email
            )  # the row being replaced
        ]
        mail_from = _shared_mail_from(domain, others, sender.mail_from_subdomain)
        await get_provider(ctx.runtime.settings, sender.provider).create_domain(domain, mail_from)
    return sender.email, {
        "email": sender.email,
        "domain": domain,
        "mail_from_subdomain": mail_from,
        "name": sender.name,
        "provider": sender.provider,
        "verified": sender.provider == MAILDEV,
    }


async def sender_row(ctx: ProjectContext, pk: int, *, for_update: bool = False) -> Integration:
    row = await repository(ctx).get(pk, for_update=for_update)
    if row is None:
        raise NotFound()
    return row


async def verify_sender(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    """Ask the provider (and DNS) whether the sender's domain is verified; on success every sender
    of the project on that domain and provider is marked verified."""
    require_project_admin(ctx)
    row = await sender_row(ctx, pk)
    config = dict(row.config or {})
    provider = str(config.get("provider") or SES)
    domain = str(config.get("domain") or domain_of(str(row.integration_id)))
    result = await get_provider(ctx.runtime.settings, provider).verify_domain(
        domain, str(config.get("mail_from_subdomain") or DEFAULT_MAIL_FROM)
    )
    if result["status"] == SUCCESS:
        for sender in await repository(ctx).same_domain_in_project(domain):
            if sender.config.get("provider", SES) == provider and not sender.config.get("verified"):
                sender.config = {**sender.config, "verified": True}
                await events.integration_changed(ctx.session, events.INTEGRATION_UPDATED, sender)
        await ctx.session.commit()
    return result


async def update_sender(ctx: ProjectContext, pk: int, changes: dict[str, Any]) -> None:
    """Rename a sender or change its MAIL FROM subdomain (shared by the domain's senders)."""
    require_project_admin(ctx)
    row = await sender_row(ctx, pk, for_update=True)
    config = dict(row.config or {})
    if "name" in changes:
        config["name"] = _text(changes["name"], "name")
    if "mail_from_subdomain" in changes:
        wanted = mail_from_subdomain(changes["mail_from_subdomain"]) or DEFAULT_MAIL_FROM
        domain = str(config.get("domain") or domain_of(str(row.integration_id)))
        if wanted != config.get("mail_from_subdomain"):
            others = [s for s in await repository(ctx).same_domain_in_organization(domain) if s.id != row.id]
            _shared_mail_from(domain, others, wanted)
            provider = get_provider(ctx.runtime.settings, str(config.get("provider") or SES))
            await provider.create_domain(domain, wanted)
        config["mail_from_subdomain"] = wanted
    row.config = config
    await events.integration_changed(ctx.session, events.INTEGRATION_UPDATED, row)
    await ctx.session.commit()


async def remove_identity_if_unused(runtime: Runtime, row: Integration, secrets: dict[str, Any]) -> None:
    """After a sender is deleted: the last sender of a domain takes its SES identity with it."""
    config = row.config or {}
    if row.kind != "email" or config.get("provider") != SES or not config.get("domain"):
        return
    domain = str(config["domain"])
    async with runtime.db.session() as session:
        if await domain_in_use(session, domain, SES):
            return
    await get_provider(runtime.settings, SES).delete_domain(domain)


@kind_builder("email", config=EmailConfig)
async def build_email(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
    """The `email` kind: an address on a domain the organization owns, set up at SES (or maildev)."""
    integration_id, stored = await build_sender(ctx, config)
    return BuiltIntegration(integration_id=integration_id, config=stored)
