"""Rules of proxy records: a subdomain an organization points (CNAME) at a managed reverse proxy."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import dns.exception
import dns.resolver
from sqlalchemy.exc import IntegrityError

from patchbay.account.user_basic import created_by
from patchbay.config import Settings
from patchbay.kit.convertors import parse_uuid
from patchbay.kit.db import Row
from patchbay.kit.dns import make_resolver
from patchbay.kit.errors import NotFound, ValidationError
from patchbay.kit.hostnames import MAX_NAME, is_hostname, normalize, root_and_host
from patchbay.kit.pagination import PageParams
from patchbay.kit.timefmt import iso
from patchbay.proxy_record.repository import ProxyRecordRepository
from patchbay.tenancy.context import OrganizationContext
from patchbay.tenancy.dependencies import require_organization_admin

WAITING = "waiting"
VALID = "valid"
DNS_LIFETIME = 3.0


def serialize(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "domain": row["domain"],
        "target_cname": row["target_cname"],
        "status": row["status"],
        "message": row["message"] or "",
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": created_by(row),
    }


def base_cname(settings: Settings) -> str:
    return (settings.proxy_base_cname or f"proxy.{settings.domain_connect_provider_id}").strip(".").lower()


def target_cname(settings: Settings, organization_id: uuid.UUID, domain: str) -> str:
    digest = hashlib.sha256(f"{organization_id}".encode() + domain.encode()).hexdigest()[:20]
    return f"{digest}.{base_cname(settings)}"


def normalize_domain(raw: str) -> str:
    domain = normalize(raw)
    if not domain:
        raise ValidationError("This field may not be blank.", code="blank", attr="domain")
    if len(domain) > MAX_NAME:
        raise ValidationError(
            f"Ensure this field has no more than {MAX_NAME} characters.", code="max_length", attr="domain"
        )
    if not is_hostname(domain):
        raise ValidationError("Enter a valid domain name, e.g. ph.example.com.", attr="domain")
    root, host = root_and_host(domain)
    if not host:
        # The proxy is reached through a CNAME, which a zone apex cannot carry.
        raise ValidationError(
            f"Use a subdomain of {root}, e.g. ph.{root}, not the domain itself.", attr="domain"
        )
    return domain


def repository(ctx: OrganizationContext) -> ProxyRecordRepository:
    return ProxyRecordRepository(ctx.session, ctx.organization_id)


def parse_pk(raw: str) -> uuid.UUID:
    pk = parse_uuid(raw)
    if pk is None:
        raise NotFound()
    return pk


async def list_records(ctx: OrganizationContext, params: PageParams) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository(ctx).page(params=params)
    return count, [serialize(r) for r in rows]


async def _points_at_target(settings: Settings, domain: str, target: str) -> bool:
    try:
        answer = await make_resolver(settings, lifetime=DNS_LIFETIME).resolve(domain, "CNAME")
    except (dns.exception.DNSException, OSError):
        return False
    return any(r.to_text().rstrip(".").lower() == target for r in answer)


async def get_record(ctx: OrganizationContext, raw_pk: str) -> dict[str, Any]:
    """A waiting record is checked against DNS first: once its CNAME points at the target it is valid."""
    pk = parse_pk(raw_pk)
    repo = repository(ctx)
    row = await repo.get(pk)
    if row is None:
        raise NotFound()
    if row["status"] == WAITING and await _points_at_target(
        ctx.runtime.settings, row["domain"], row["target_cname"]
    ):
        model = await repo.get_model(pk)
        if model is not None:
            model.status = VALID
            model.message = ""
            await ctx.session.commit()
            row = await repo.get(pk)
            assert row is not None
    return serialize(row)


async def create_record(ctx: OrganizationContext, raw_domain: str) -> dict[str, Any]:
    require_organization_admin(ctx)
    domain = normalize_domain(raw_domain)
    repo = repository(ctx)
    taken = ValidationError("proxy record with this domain already exists.", code="unique", attr="domain")
    if await repo.domain_taken(domain):
        raise taken
    try:
        row = await repo.insert(
            domain=domain,
            target_cname=target_cname(ctx.runtime.settings, ctx.organization_id, domain),
            status=WAITING,
            message="",
            created_by_id=ctx.user.id,
        )
        await ctx.session.commit()
    except IntegrityError:
        await ctx.session.rollback()
        raise taken from None
    created = await repo.get(row.id)
    assert created is not None
    return serialize(created)


async def delete_record(ctx: OrganizationContext, raw_pk: str) -> None:
    require_organization_admin(ctx)
    pk = parse_pk(raw_pk)
    repo = repository(ctx)
    if await repo.get_model(pk) is None:
        raise NotFound()
    await repo.delete(pk)
    await ctx.session.commit()
