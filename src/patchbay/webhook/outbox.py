"""Events written in the transaction of the change that causes them (the transactional outbox).

The integration domain announces every change through `integration.events.integration_changed`
before it commits; the hook below turns it into one event per project that has a subscribing
endpoint, and one pending delivery per such endpoint. Nothing here sends: the delivery loop does,
after the commit (woken by the deliveries' NOTIFY trigger on PostgreSQL).
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration import events
from patchbay.integration import service as integrations
from patchbay.kit.db import Row
from patchbay.models import Integration, OrganizationIntegration
from patchbay.org_integration import service as org_integrations
from patchbay.webhook.outbox_repository import (
    CREATED_IN_INSERT,
    NO_DELETED_SUBSCRIBER,
    NO_UPDATED_SUBSCRIBER,
    OutboxRepository,
)

PING = "ping"
EVENT_TYPES = (
    events.INTEGRATION_CREATED,
    events.INTEGRATION_UPDATED,
    events.INTEGRATION_DELETED,
    events.INTEGRATION_REFRESH_FAILED,
    events.INTEGRATION_REAUTHORIZATION_REQUIRED,
    events.INTEGRATION_RECOVERED,
    events.ORG_INTEGRATION_CREATED,
    events.ORG_INTEGRATION_DELETED,
    PING,
)
ALL_EVENTS = "*"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def new_event(event_type: str, project_id: int, organization_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    """One event of one project as its deliveries carry it ({"id", "type", "body", "created_at"}), the
    body rendered once."""
    now = datetime.now(UTC)
    event_id = new_event_id()
    body = {
        "id": event_id,
        "type": event_type,
        "created_at": now,
        "project_id": project_id,
        "organization_id": organization_id,
        "data": data,
    }
    return {"id": event_id, "type": event_type, "body": render(body), "created_at": now}


def subscribes(subscribed: list[str], event_type: str) -> bool:
    return ALL_EVENTS in subscribed or event_type in subscribed


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def render(body: dict[str, Any]) -> str:
    """The exact text every attempt sends and signs (datetimes in UTC with `Z`, as the API)."""
    return orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z).decode()


def _with_creator(values: dict[str, Any], creator: Row | None) -> dict[str, Any]:
    for column in ("cb_uuid", "cb_distinct_id", "cb_first_name", "cb_last_name", "cb_email"):
        values[column] = creator[column] if creator is not None else None
    values["cb_is_email_verified"] = creator["cb_is_email_verified"] if creator is not None else None
    return values


async def integration_object(
    repo: OutboxRepository, row: Integration | OrganizationIntegration
) -> dict[str, Any]:
    """The object the API answers for `row` (never its secrets)."""
    creator = await repo.creator(row.created_by_id)
    values: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "integration_id": row.integration_id,
        "config": row.config,
        "created_at": row.created_at,
        "created_by_id": row.created_by_id,
    }
    if isinstance(row, Integration):
        values["errors"] = row.errors
        values["health_status"] = row.health_status
        values["health_detail"] = row.health_detail
        values["health_checked_at"] = row.health_checked_at
        return integrations.serialize(_with_creator(values, creator))
    values["updated_at"] = row.updated_at or row.created_at
    return org_integrations.serialize(_with_creator(values, creator))


async def publish(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any] | None,
    endpoints: list[Row],
    *,
    data_factory: Any = None,
) -> list[uuid.UUID]:
    """One event per project of `endpoints` (rows with id, project_id, organization_id), as one
    pending delivery per endpoint; the delivery ids. `data_factory` builds `data` only when there is an
    endpoint to deliver to."""
    if not endpoints:
        return []
    if data is None:
        data = await data_factory()
    repo = OutboxRepository(session)
    by_project: dict[int, list[Row]] = defaultdict(list)
    for endpoint in endpoints:
        by_project[int(endpoint["project_id"])].append(endpoint)
    ids: list[uuid.UUID] = []
    for project_id, targets in by_project.items():
        event = new_event(event_type, project_id, targets[0]["organization_id"], data)
        deliveries = [repo.pending_delivery(uuid.uuid4(), event, target["id"]) for target in targets]
        await repo.add_deliveries(deliveries)
        ids.extend(delivery["id"] for delivery in deliveries)
    return ids


@events.on_integration_change
async def publish_integration_change(session: AsyncSession, change: events.IntegrationChange) -> None:
    """The outbox hook: runs before the change's commit, in its transaction. Most changes find no
    subscribing endpoint: one indexed read. A project's change that does writes its event's
    deliveries in one more statement."""
    repo = OutboxRepository(session)
    row = change.row
    if isinstance(row, Integration):
        candidates = await repo.enabled_endpoints(project_id=row.project_id)
    else:
        candidates = await repo.enabled_endpoints(organization_id=row.organization_id)
    endpoints = [e for e in candidates if subscribes(list(e["events"] or []), change.type)]
    if not endpoints:
        return

    async def data() -> dict[str, Any]:
        built: dict[str, Any] = {"integration": change.api_object or await integration_object(repo, row)}
        if change.error is not None:
            built["error"] = {"code": change.error["code"], "detail": change.error["detail"]}
        return built

    if not isinstance(row, Integration):
        await publish(session, change.type, None, endpoints, data_factory=data)
        return
    # One project: one event, its deliveries written in one statement.
    event = new_event(change.type, row.project_id, endpoints[0]["organization_id"], await data())
    await repo.add_event_deliveries(event, [e["id"] for e in endpoints])


# The integration's API object in a rendered body: the first object after the event's own fields,
# none of which a user writes, so the first match is it (its "id" 0 until the database assigns one).
_INTEGRATION_ID = '"data":{"integration":{"id":0,'


def created_in_insert(new: events.NewIntegration) -> dict[str, Any]:
    """The parameters of CREATED_IN_INSERT for one create: its event's id and time, and its body
    rendered around the integration's id (head + id + tail, joined by the database)."""
    data = {"integration": {**new.api_object, "id": 0}}
    event = new_event(events.INTEGRATION_CREATED, new.project_id, new.organization_id, data)
    text = event["body"]
    at = text.index(_INTEGRATION_ID) + len(_INTEGRATION_ID) - 2  # the 0
    return {
        "outbox_event_id": event["id"],
        "outbox_body_head": text[:at],
        "outbox_body_tail": text[at + 1 :],
        "outbox_at": event["created_at"],
    }


events.change_companion(
    publish_integration_change,
    events.ChangeCompanion(
        ctes=CREATED_IN_INSERT,
        update_guard=NO_UPDATED_SUBSCRIBER,
        delete_guard=NO_DELETED_SUBSCRIBER,
        params=created_in_insert,
    ),
)
