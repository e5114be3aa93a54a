"""The delivery loop every worker of every process runs (started with the app, like the refresher).

It claims due deliveries in batches (PostgreSQL: one `UPDATE … FOR UPDATE SKIP LOCKED … RETURNING`,
so workers never take the same row), gives each claimed one a lease and counts its attempt before
sending, sends up to MAX_IN_FLIGHT at once, then records the outcomes: successes in batches (one
executemany and one commit for all that finished meanwhile), failures one by one (they touch the
endpoint too). A delivery's slot is freed only once its outcome is recorded, so one attempt at a
time per delivery holds. A crash or `kill -9` mid-attempt leaves the row pending: its lease runs out
and any worker retries it (at least once; receivers dedupe by `webhook-id`). It wakes at once on the
deliveries' NOTIFY, claims again RECHECK_AFTER later (PostgreSQL notifies at most once per 20 ms:
migration 0010), and polls every few seconds besides (retries, missed notifications, SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.notifications import listen
from patchbay.kit.timefmt import iso
from patchbay.runtime import Runtime
from patchbay.webhook import egress, metrics, signing
from patchbay.webhook.outbox_repository import OutboxRepository
from patchbay.webhook.repository import FAILED, PENDING, SUCCEEDED

log = logging.getLogger("patchbay.webhook")

CHANNEL = "patchbay_webhooks"
MAX_IN_FLIGHT = 32  # attempts under way in one worker; also its pool of connections, which httpcore
# scans on every request (more connections cost every attempt more CPU)
CLAIM_BATCH = 32
RECORDING = 4  # failures written at once: attempts in flight must not hold as many database connections
SECRETS_CACHED = 1024  # decrypted endpoint secrets kept, by ciphertext (Fernet costs per attempt)
POLL_INTERVAL = 3.0
# After a notification, one more claim this much later: deliveries committed within 20 ms of the one
# that notified send none of their own (migration 0010), and may have committed after the claim the
# notification caused. Well above 20 ms, so that a commit slow to finish is still covered.
RECHECK_AFTER = 0.1
STEP_RETRY_SECONDS = 1.0  # after a failed step (the database away): try again soon
# Beyond the attempt's own time limit (PATCHBAY_WEBHOOK_TIMEOUT covers resolving and sending): time
# to record the outcome. A worker killed mid-attempt delays that delivery by about this much.
LEASE_MARGIN = timedelta(seconds=5)
MAINTENANCE_INTERVAL = 5.0  # queue depth gauge
PRUNE_INTERVAL = 3600.0
RETENTION = timedelta(days=30)
DISABLE_AFTER = timedelta(days=3)
JITTER = 0.2  # each retry waits its scheduled delay ±20 %


def retry_delay(delays: list[float], attempts: int) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None once the schedule is spent."""
    if attempts > len(delays):
        return None
    return delays[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class DeliveryLoop:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.delays = runtime.settings.webhook_retry_delays()
        self.wake = asyncio.Event()
        self.recheck_at: float | None = None  # monotonic time of the claim a notification owes
        self.in_flight: set[asyncio.Task[None]] = set()
        self.started = 0  # attempts this loop started (tests, logs)
        self.recording = asyncio.Semaphore(RECORDING)
        self.more_due = False  # the last claim filled every free slot: claim again when one frees
        self._successes: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._secrets: dict[str, str] = {}
        self._maintained_at = float("-inf")
        self._pruned_at = float("-inf")
        # One client for every attempt of this worker: connections to a receiver are reused, as many
        # kept open as attempts may be under way; every host checked and pinned at every attempt.
        self.client = egress.delivery_client(
            self.settings,
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT),
        )

    async def run(self, stop: asyncio.Event) -> None:
        listener = None
        driver = self.runtime.db.driver
        if driver is not None:
            listener = asyncio.create_task(
                listen(
                    driver.dsn,
                    {CHANNEL: lambda _payload: self.notified()},
                    on_listening=self.wake.set,  # catch up on whatever was written meanwhile
                    on_lost=lambda: None,  # the poll covers the gap
                    stop=stop,
                )
            )
        try:
            while not stop.is_set():
                try:
                    timeout = await self.step()
                except Exception as exc:  # noqa: BLE001 - a database outage must not end deliveries
                    log.warning("webhook delivery step failed; retrying", extra={"error": type(exc).__name__})
                    timeout = STEP_RETRY_SECONDS
                timeout = self.until_recheck(timeout)
                waiter = asyncio.create_task(self.wake.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
        finally:
            if self.in_flight:
                # Attempts under way get a moment to finish; the rest run out their lease.
                await asyncio.wait(self.in_flight, timeout=5)
                for task in self.in_flight:
                    task.cancel()
            await self.client.aclose()
            if listener is not None:
                await listener

    def notified(self) -> None:
        self.recheck_at = time.monotonic() + RECHECK_AFTER
        self.wake.set()

    def until_recheck(self, timeout: float) -> float:
        """`timeout`, shortened to the claim a notification still owes (see RECHECK_AFTER)."""
        if self.recheck_at is None:
            return timeout
        left = self.recheck_at - time.monotonic()
        if left <= 0:
            self.recheck_at = None  # the step just taken was that claim
            return timeout
        return min(timeout, left)

    async def step(self) -> float:
        """Claim what is due into free slots and start it; answer how long to sleep at most."""
        self.wake.clear()
        try:
            wanted = min(MAX_IN_FLIGHT - len(self.in_flight), CLAIM_BATCH)
            if wanted == 0:
                # Woken with every slot taken (a NOTIFY): claim as soon as one frees.
                self.more_due = True
                return POLL_INTERVAL
            claimed = await self.claim(wanted)
            self.started += len(claimed)
            for row in claimed:
                task = asyncio.create_task(self.attempt(row))
                self.in_flight.add(task)
                task.add_done_callback(self._finished)
            # A full claim means more may be due: claim again at once if slots are left, else as soon
            # as one frees. Otherwise completions do not wake the loop (a NOTIFY or the poll does).
            self.more_due = len(claimed) == wanted
            if self.more_due and len(self.in_flight) < MAX_IN_FLIGHT:
                return 0.0
            await self.maintain()
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("webhook delivery pass failed")
        return POLL_INTERVAL

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        if self.more_due:
            self.wake.set()  # a slot is free and rows are waiting for one

    async def claim(self, limit: int) -> list[Mapping[str, Any]]:
        now = _now()
        lease = now + timedelta(seconds=self.settings.webhook_timeout) + LEASE_MARGIN
        # One UPDATE takes the rows and commits their leases on its own (no BEGIN/COMMIT round trips:
        # every create wakes every worker, and most wake-ups find little or nothing).
        async with self.runtime.db.read_session() as session:
            return [dict(row) for row in await OutboxRepository(session).claim(now, lease, limit)]

    async def maintain(self) -> None:
        clock = time.monotonic()
        if clock - self._maintained_at < MAINTENANCE_INTERVAL:
            return
        self._maintained_at = clock
        prune = clock - self._pruned_at >= PRUNE_INTERVAL
        async with self.runtime.db.transaction() as session:
            repo = OutboxRepository(session)
            if prune:
                await repo.prune(_now() - RETENTION)
                self._pruned_at = clock
            metrics.QUEUE_DEPTH.set(await repo.pending_count())

    async def attempt(self, row: Mapping[str, Any]) -> None:
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            headers = self.headers(row)
            async with asyncio.timeout(self.settings.webhook_timeout):
                status = await egress.post(self.client, row["url"], headers, row["body"].encode())
            if not 200 <= status < 300:
                error = f"The endpoint answered {status}."
        except egress.URLRefused as exc:
            error = str(exc)
        except UndecryptableSecret:
            error = "The endpoint's secret cannot be decrypted with the configured keys."
        except TimeoutError:
            error = f"The endpoint did not answer within {self.settings.webhook_timeout:g} seconds."
        except httpx.HTTPError as exc:
            error = f"The endpoint could not be reached ({type(exc).__name__})."
        metrics.ATTEMPT_SECONDS.observe(time.monotonic() - started)
        try:
            if status is not None and 200 <= status < 300 and row["failing_since"] is None:
                await self.record_success(row, status)
            else:
                async with self.recording:
                    await self.record(row, status, error)
        except Exception:  # noqa: BLE001 - the lease runs out and another attempt follows
            log.exception("recording a webhook attempt failed", extra={"delivery": str(row["id"])})

    async def record_success(self, row: Mapping[str, Any], status: int) -> None:
        """Queue the outcome for the next batch and wait until it is written."""
        outcome = {"b_id": row["id"], "b_attempts": int(row["attempts"]), "b_status_code": status,
                   "b_at": _now(), "created": _aware(row["event_created_at"])}  # fmt: skip
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._successes.append((outcome, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_successes())
        await done

    async def _write_successes(self) -> None:
        # One writer at a time: whatever finishes while a batch is written goes into the next one.
        while self._successes:
            batch, self._successes = self._successes, []
            try:
                async with self.runtime.db.read_session() as session:
                    await OutboxRepository(session).record_successes(
                        [{k: v for k, v in outcome.items() if k != "created"} for outcome, _ in batch]
                    )
            except Exception as exc:  # noqa: BLE001 - each waiter logs it; the leases run out
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for outcome, done in batch:
                metrics.DELIVERIES.labels("succeeded").inc()
                if outcome["created"] is not None:
                    metrics.LAG_SECONDS.observe((outcome["b_at"] - outcome["created"]).total_seconds())
                done.set_result(None)

    def secret(self, ciphertext: str) -> str:
        """An endpoint secret, decrypted once per worker (the same ciphertext always opens alike)."""
        plain = self._secrets.get(ciphertext)
        if plain is None:
            if len(self._secrets) >= SECRETS_CACHED:
                self._secrets.clear()
            plain = self._secrets[ciphertext] = self.runtime.keyring.decrypt_json(ciphertext)["secret"]
        return plain

    def headers(self, row: Mapping[str, Any]) -> dict[str, str]:
        secrets = [self.secret(row["secret"])]
        expires = _aware(row["previous_secret_expires_at"])
        if row["previous_secret"] and expires is not None and expires > _now():
            secrets.append(self.secret(row["previous_secret"]))
        timestamp = int(time.time())
        body = row["body"].encode()
        return {
            "Content-Type": "application/json",
            "webhook-id": row["event_id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature_header(secrets, row["event_id"], timestamp, body),
        }

    async def record(self, row: Mapping[str, Any], status: int | None, error: str) -> None:
        now = _now()
        delivery_id: uuid.UUID = row["id"]
        endpoint_id: uuid.UUID = row["endpoint_id"]
        attempts = int(row["attempts"])
        succeeded = status is not None and 200 <= status < 300
        # Successes to an endpoint that was not failing are written in batches (record_success); the
        # outcomes here change the endpoint too.
        async with self.runtime.db.transaction() as session:
            repo = OutboxRepository(session)
            if succeeded:
                await repo.record_attempt(
                    delivery_id, attempts, status=SUCCEEDED, last_status_code=status, last_error="",
                    next_attempt_at=None, delivered_at=now,
                )  # fmt: skip
                if row["failing_since"] is not None:
                    await repo.update_endpoint(endpoint_id, failing_since=None)
                metrics.DELIVERIES.labels("succeeded").inc()
                created = _aware(row["event_created_at"])
                if created is not None:
                    metrics.LAG_SECONDS.observe((now - created).total_seconds())
                return
            delay = None if status == 410 else retry_delay(self.delays, attempts)
            final = delay is None
            await repo.record_attempt(
                delivery_id, attempts, status=FAILED if final else PENDING, last_status_code=status,
                last_error=error, next_attempt_at=None if final else now + timedelta(seconds=delay or 0),
            )  # fmt: skip
            metrics.DELIVERIES.labels("failed" if final else "retry").inc()
            if status == 410:
                await self.disable(
                    repo, endpoint_id, f"Disabled on {iso(now)}: the endpoint answered 410 Gone."
                )
                return
            failing_since = _aware(row["failing_since"])
            if failing_since is None:
                await repo.update_endpoint(endpoint_id, failing_since=now)
            elif now - failing_since >= DISABLE_AFTER:
                await self.disable(
                    repo,
                    endpoint_id,
                    f"Disabled on {iso(now)} after failing for 3 days since {iso(failing_since)}. "
                    f"Last error: {error}",
                )

    async def disable(self, repo: OutboxRepository, endpoint_id: uuid.UUID, reason: str) -> None:
        await repo.update_endpoint(endpoint_id, enabled=False, disabled_reason=reason, updated_at=_now())
        log.warning("webhook endpoint disabled", extra={"endpoint": str(endpoint_id), "reason": reason})


async def run_delivery_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    await DeliveryLoop(runtime).run(stop)


async def deliver_due(runtime: Runtime) -> None:
    """Send everything due now and wait for the outcomes (tests, operators' scripts)."""
    loop = DeliveryLoop(runtime)
    try:
        await loop.step()
        while loop.in_flight:
            await asyncio.gather(*list(loop.in_flight), return_exceptions=True)
            await loop.step()
    finally:
        await loop.client.aclose()
