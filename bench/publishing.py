"""The publishing run: the distinct creates with one endpoint subscribed to integration.created,
measured in alternated pairs with the creates nobody hears of, and checked to have published."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg

from bench.load import Target
from bench.log import say
from bench.measure import Measurer
from bench.report import Report
from bench.runs import PUBLISHING
from bench.servers import Server
from patchbay.kit.db import driver_dsn

# Creates with and without publishing, measured as this many alternated pairs and pooled: one pair of
# short runs moves by ±5–10 points from one run to the next on two shared cores, more than the
# target's margin (three pairs pooled still spread from +4 to +10 % over four runs of one tree).
PUBLISHING_PAIRS = 5
ENDPOINT_ID = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")


async def subscribe(url: str, project_id: int, enabled: bool) -> None:
    """The publishing run's endpoint on the creates' project, subscribed to integration.created:
    written once (as the webhooks API would store it; nothing is sent, delivery is off), then
    enabled or disabled."""
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        now = datetime.now(UTC)
        await conn.execute(
            """
            INSERT INTO webhook_endpoints (id, project_id, url, events, description, enabled, disabled_reason,
                                           secret, previous_secret, created_at, updated_at)
            VALUES ($1, $2, 'https://hooks.bench.invalid/patchbay', '["integration.created"]'::jsonb,
                    'bench: publishing run', $3, '', 'not-a-secret', '', $4, $4)
            ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
            """,
            ENDPOINT_ID, project_id, enabled, now,
        )  # fmt: skip
    finally:
        await conn.close()


def more_publishing_pairs(
    measurer: Measurer, server: Server, report: Report, url: str, project_id: int, target: Target, rows: int
) -> None:
    """The distinct creates without and with publishing again, alternated (see PUBLISHING_PAIRS);
    the report pools every pair, the main runs' included."""
    first = [report.run("create (distinct)"), report.run(PUBLISHING)]
    if None in first:
        return
    report.publishing_pairs.append([r for r in first if r is not None])
    for number in range(2, PUBLISHING_PAIRS + 1):
        pair = []
        for name, subscribed in (("create (distinct)", False), (PUBLISHING, True)):
            asyncio.run(subscribe(url, project_id, subscribed))
            pair.append(measurer.measure(server, f"{name} (pair {number})", target, "", rows))
        asyncio.run(subscribe(url, project_id, False))
        report.publishing_pairs.append(pair)
    check_published(url, project_id)


def check_published(url: str, project_id: int) -> None:
    """The publishing run wrote an event per create (else it measured nothing more)."""

    async def count() -> tuple[int, int]:
        conn = await asyncpg.connect(driver_dsn(url))
        try:
            row = await conn.fetchrow(
                "SELECT count(DISTINCT event_id), count(*) FROM webhook_deliveries "
                "WHERE endpoint_id = $1 AND event_type = 'integration.created' "
                "AND body LIKE '%\"project_id\":' || $2::int || ',%'",
                ENDPOINT_ID,
                project_id,
            )
            return int(row[0]), int(row[1])
        finally:
            await conn.close()

    events, deliveries = asyncio.run(count())
    if not events or events != deliveries:
        raise RuntimeError(f"the publishing run wrote {events} events and {deliveries} deliveries")
    say(f"  the publishing run wrote {events:,} events, each with its delivery")
