"""Re-encrypt every stored secret with the first key of the ring. Idempotent: rows already under
the first key are skipped, so an interrupted run can simply be started again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from patchbay.kit.crypto import UndecryptableSecret
from patchbay.models import Integration, LinkSession, OAuthState, OrganizationIntegration, WebhookEndpoint
from patchbay.runtime import Runtime

BATCH = 200

# (table label, primary key column, encrypted column)
ENCRYPTED_COLUMNS: list[tuple[str, Any, Any]] = [
    ("integrations", Integration.__table__.c.id, Integration.__table__.c.sensitive_config),
    (
        "organization_integrations",
        OrganizationIntegration.__table__.c.id,
        OrganizationIntegration.__table__.c.sensitive_config,
    ),
    ("oauth_states", OAuthState.__table__.c.token, OAuthState.__table__.c.secret),
    ("link_sessions", LinkSession.__table__.c.token, LinkSession.__table__.c.payload),
    ("webhook_endpoints", WebhookEndpoint.__table__.c.id, WebhookEndpoint.__table__.c.secret),
    (
        "webhook_endpoints (previous secrets)",
        WebhookEndpoint.__table__.c.id,
        WebhookEndpoint.__table__.c.previous_secret,
    ),
]


@dataclass
class RotationReport:
    examined: int = 0
    rotated: int = 0
    unreadable: int = 0


async def rotate_encryption(runtime: Runtime, progress: Callable[[str], None]) -> RotationReport:
    report = RotationReport()
    for label, pk, column in ENCRYPTED_COLUMNS:
        async with runtime.db.session() as session:
            total = int(
                await session.scalar(select(func.count()).select_from(pk.table).where(column != "")) or 0
            )
        done = 0
        last_pk: object = None
        while True:
            async with runtime.db.session() as session:
                stmt = select(pk, column).where(column != "").order_by(pk).limit(BATCH)
                if last_pk is not None:
                    stmt = stmt.where(pk > last_pk)
                rows = (await session.execute(stmt)).all()
                if not rows:
                    break
                for key, token in rows:
                    report.examined += 1
                    if runtime.keyring.is_current(token):
                        continue
                    try:
                        rotated = runtime.keyring.rotate(token)
                    except UndecryptableSecret:
                        report.unreadable += 1
                        continue
                    # Only replace what we read: a concurrent writer's newer value wins.
                    await session.execute(
                        update(pk.table).where(pk == key, column == token).values({column.name: rotated})
                    )
                    report.rotated += 1
                await session.commit()
                last_pk = rows[-1][0]
                done += len(rows)
                progress(f"{label}: {done}/{total} rows checked")
        if total == 0:
            progress(f"{label}: nothing to rotate")
    return report
