"""Rules of organization integrations: list, retrieve, delete, and the environment mapping (pushed to
the provider by its `OrgKind`, found in the provider registry)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from patchbay.account.user_basic import created_by
from patchbay.integration import events
from patchbay.kit.convertors import parse_uuid
from patchbay.kit.db import Row
from patchbay.kit.errors import APIError, NotFound, ValidationError
from patchbay.kit.pagination import PageParams
from patchbay.kit.timefmt import iso
from patchbay.models import Integration, OrganizationIntegration
from patchbay.org_integration.repository import OrgIntegrationRepository
from patchbay.providers import registry
from patchbay.providers.base import EnvironmentTokens, OrgInstallation
from patchbay.tenancy.context import OrganizationContext
from patchbay.tenancy.dependencies import require_organization_admin

log = logging.getLogger(__name__)

MAX_PROJECT_ID = 2**31 - 1
SAVED_BUT = "The environment mapping was saved, but pushing the project tokens to Vercel failed: "


def serialize(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "integration_id": row["integration_id"],
        "config": row["config"] if row["config"] is not None else {},
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "created_by": created_by(row),
    }


def repository(ctx: OrganizationContext) -> OrgIntegrationRepository:
    return OrgIntegrationRepository(ctx.session, ctx.organization_id)


def parse_pk(raw: str) -> uuid.UUID:
    pk = parse_uuid(raw)
    if pk is None:
        raise NotFound()
    return pk


async def list_integrations(ctx: OrganizationContext, params: PageParams) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository(ctx).page(params=params)
    return count, [serialize(r) for r in rows]


async def get_integration(ctx: OrganizationContext, raw_pk: str) -> dict[str, Any]:
    row = await repository(ctx).get(parse_pk(raw_pk))
    if row is None:
        raise NotFound()
    return serialize(row)


async def _model(ctx: OrganizationContext, raw_pk: str) -> OrganizationIntegration:
    row = await repository(ctx).get_model(parse_pk(raw_pk))
    if row is None:
        raise NotFound()
    return row


async def delete_integration(ctx: OrganizationContext, raw_pk: str) -> None:
    require_organization_admin(ctx)
    row = await _model(ctx, raw_pk)
    await repository(ctx).delete_with_project_integrations(row)
    await events.integration_changed(ctx.session, events.ORG_INTEGRATION_DELETED, row)
    await ctx.session.commit()
    log.info("organization integration %s (%s) deleted", row.id, row.kind)
    kind = registry.org_kind(row.kind)
    if kind is not None:
        try:
            await kind.after_delete(ctx.runtime.settings, _installation(ctx, row))
        except Exception:  # noqa: BLE001 - best effort: the rows are gone either way
            log.warning("after-delete of organization integration %s (%s) failed", row.id, row.kind)


# --- environment mapping --------------------------------------------------------------------------


def _project_id(body: dict[str, Any], field: str, *, required: bool) -> int | None:
    if field not in body:
        if required:
            raise ValidationError("This field is required.", code="required", attr=field)
        return None
    value = body[field]
    if value is None:
        raise ValidationError("This field may not be null.", code="null", attr=field)
    if isinstance(value, bool):
        raise ValidationError("A valid integer is required.", attr=field)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
    raise ValidationError("A valid integer is required.", attr=field)


def parse_mapping(body: Any) -> dict[str, int]:
    if not isinstance(body, dict):
        got = "list" if isinstance(body, list) else type(body).__name__
        raise ValidationError(f"Invalid data. Expected a dictionary, but got {got}.")
    production = _project_id(body, "production", required=True)
    assert production is not None
    preview = _project_id(body, "preview", required=False)
    development = _project_id(body, "development", required=False)
    return {
        "production": production,
        "preview": preview if preview is not None else production,
        "development": development if development is not None else production,
    }


async def update_environment_mapping(ctx: OrganizationContext, raw_pk: str, body: Any) -> dict[str, Any]:
    require_organization_admin(ctx)
    repo = repository(ctx)
    row = await _model(ctx, raw_pk)
    config = dict(row.config or {})
    if config.get("type") != "connectable":
        raise ValidationError("Environment mapping is only supported for connectable integrations.")
    mapping = parse_mapping(body)

    distinct = list(dict.fromkeys(mapping.values()))
    valid_ids = [pid for pid in distinct if 0 < pid <= MAX_PROJECT_ID]
    projects = await repo.projects(valid_ids)
    for pid in distinct:
        if pid not in projects:
            raise ValidationError(f"Project {pid} does not belong to this organization.")

    resources: dict[int, Integration] = {}
    for pid in distinct:
        existing = await repo.project_integration(pid, row.kind)
        if existing is None:
            existing = await repo.add(
                Integration(
                    project_id=pid,
                    kind=row.kind,
                    integration_id=str(pid),
                    config={"type": "connectable"},
                    sensitive_config="",
                    errors="",
                    created_by_id=ctx.user.id,
                )
            )
        resources[pid] = existing

    config["environment_mapping"] = mapping
    row.config = config
    await ctx.session.flush()
    await ctx.session.commit()
    log.info("environment mapping of organization integration %s saved", row.id)

    kind = registry.org_kind(row.kind)
    if kind is not None:
        await _push_mapping(
            ctx,
            row,
            mapping,
            projects_tokens={p: projects[p].api_token for p in distinct},
            resource_id=str(resources[mapping["production"]].id),
            name=projects[mapping["production"]].name,
        )

    fresh = await repo.get(row.id)
    assert fresh is not None
    return serialize(fresh)


def _installation(ctx: OrganizationContext, row: OrganizationIntegration) -> OrgInstallation:
    return OrgInstallation(
        kind=row.kind,
        integration_id=row.integration_id,
        config=dict(row.config or {}),
        secrets=ctx.runtime.keyring.decrypt_json(row.sensitive_config),
    )


async def _push_mapping(
    ctx: OrganizationContext,
    row: OrganizationIntegration,
    mapping: dict[str, int],
    *,
    projects_tokens: dict[int, str],
    resource_id: str,
    name: str,
) -> None:
    kind = registry.require_org_kind(row.kind, "Environment mapping")
    tokens = EnvironmentTokens(
        production=projects_tokens[mapping["production"]],
        preview=projects_tokens[mapping["preview"]],
        development=projects_tokens[mapping["development"]],
    )
    try:
        await kind.push_environment_mapping(
            ctx.runtime.settings, _installation(ctx, row), resource_id=resource_id, name=name, tokens=tokens
        )
    except ValidationError as exc:
        # The provider refused for good: its message says what to do.
        exc.detail = SAVED_BUT + exc.detail
        raise
    except APIError as exc:
        exc.detail = SAVED_BUT + exc.detail + " Save the mapping again to retry."
        raise
    log.info("environment secrets of organization integration %s pushed to %s", row.id, row.kind)
