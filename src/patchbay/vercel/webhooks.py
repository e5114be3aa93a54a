"""Vercel's webhooks: signed with the client secret (HMAC-SHA1); an uninstall removes our rows."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration import events
from patchbay.kit.errors import (
    AuthenticationFailed,
    InvalidRequest,
    ValidationError,
)
from patchbay.runtime import Runtime
from patchbay.vercel.repository import VercelRepository
from patchbay.vercel.signature import signature_valid

log = logging.getLogger(__name__)

REMOVED_EVENT = "integration-configuration.removed"


async def handle_webhook(
    runtime: Runtime, session: AsyncSession, raw_body: bytes, signature: str | None
) -> dict[str, Any]:
    secret = runtime.settings.kind_setting("vercel", "CLIENT_SECRET")
    if not secret:
        log.error("PATCHBAY_VERCEL_CLIENT_SECRET is not set: Vercel webhooks cannot be verified")
    if not signature_valid(secret, raw_body, signature):
        log.warning("vercel webhook with an invalid signature refused")
        raise AuthenticationFailed("Invalid signature")
    try:
        event = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"JSON parse error - {exc}", code="parse_error") from None
    if not isinstance(event, dict):
        got = "list" if isinstance(event, list) else type(event).__name__
        raise ValidationError(f"Invalid data. Expected a dictionary, but got {got}.")
    event_type = event.get("type")
    raw_payload = event.get("payload")
    payload: dict[str, Any] = raw_payload if isinstance(raw_payload, dict) else {}
    if event_type != REMOVED_EVENT:
        log.info("vercel webhook %s acknowledged", event_type)
        return {"status": "ignored"}
    raw_configuration = payload.get("configuration")
    configuration: dict[str, Any] = raw_configuration if isinstance(raw_configuration, dict) else {}
    installation_id = payload.get("installationId") or configuration.get("id")
    if not isinstance(installation_id, str) or not installation_id:
        raise ValidationError("Missing configurationId", attr="installationId")
    repo = VercelRepository(session)
    rows = await repo.installations(installation_id)
    for row in rows:
        await repo.remove_installation(row)
        await events.integration_changed(session, events.ORG_INTEGRATION_DELETED, row)
    await session.commit()
    log.info(
        "vercel webhook removed installation %s (%d organization integrations)", installation_id, len(rows)
    )
    return {"status": "ok"}


