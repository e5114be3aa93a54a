"""Re-encrypt every stored secret with the first key of the ring. Idempotent: rows already under
the first key are skipped, so an interrupted run can simply be started again. Each batch commits on
its own; a value changed by someone else between the batch's read and its write is left as they
wrote it (the write only replaces the exact value that was read)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


BatchHook = Callable[[str, list[Any]], Awaitable[None]]


async def rotate_encryption(
    runtime: Runtime, progress: Callable[[str], None], *, before_write: BatchHook | None = None
) -> RotationReport:
    """`progress` is told after each committed batch; `before_write(table, keys)` runs after a batch
    was read and before it is written (tests change rows there to check the newer-value guard)."""
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
                if before_write is not None:
                    await before_write(label, [key for key, _ in rows])
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
                    result: Any = await session.execute(
                        update(pk.table).where(pk == key, column == token).values({column.name: rotated})
                    )
                    report.rotated += int(result.rowcount or 0)
                await session.commit()
                last_pk = rows[-1][0]
                done += len(rows)
                progress(f"{label}: {done}/{total} rows checked")
        if total == 0:
            progress(f"{label}: nothing to rotate")
    return report
