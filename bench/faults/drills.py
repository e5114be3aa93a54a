"""The drills. Each breaks one thing under steady load (lists and creates of distinct accounts) and
returns a DrillResult: the answers, the time to recover, the creates lost, and checks that pass or
fail against docs/reliability.md's promises. They share one World and run in the order of DRILLS
(SIGTERM last: it ends the server)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable

import httpx

from bench.faults.report import DrillResult
from bench.faults.traffic import CLIENT_TIMEOUT, Record, Stream
from bench.faults.world import HTTP_TIMEOUT, World

STEADY_CONNECTIONS = 6  # list_stream (4) + create_stream (2)
OUTAGE_ANSWER_S = 2.0  # a request during a PostgreSQL outage answers 503 within this
RESUME_S = 5.0  # serving resumes within this of PostgreSQL's return
LIST_P99_MS = 50.0  # the list's p99 while a provider hangs (on a machine not otherwise busy)
STORM_INTERVAL = 0.05  # per storm connection: 12 connections, up to 240 requests a second
PROXY_FAULT_S = 4.0  # seconds of each fault of the proxy storm (hang, 500, garbage)
STARVATION_RATIO = 2.0  # what the check allows: p99 during the storm / p99 of the list alone (+10 ms)


def p99_ms(records: list[Record]) -> float:
    values = sorted(r.seconds for r in records)
    return 1000 * values[min(len(values) - 1, int(0.99 * len(values)))] if values else 0.0


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> float | None:
    """Seconds until `condition` held (None: it never did within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(step)
    return None


def recovery_after(records: list[Record], since: float) -> float | None:
    """From `since` to the end of the last failed list or create (None: nothing succeeded after it)."""
    steady = [r for r in records if r.stream in ("list", "create")]
    failures = [r for r in steady if not r.ok]
    if not failures:
        return 0.0
    last = max(r.ended for r in failures)
    return max(0.0, last - since) if any(r.ok and r.started > last for r in steady) else None


def check_creates(world: World, result: DrillResult) -> None:
    creates = [r for r in result.records if r.stream == "create"]
    acked = {r.key for r in creates if r.ok}
    unacked = {r.key for r in creates if not r.ok} - acked
    stored = world.stored_hosts(sorted(acked | unacked))
    result.acknowledged, result.lost = len(acked), len(acked - stored)
    result.unacknowledged_written = len(unacked & stored)
    result.check(
        "every acknowledged create is stored", result.lost == 0, f"{result.lost} of {len(acked)} lost"
    )


def start_steady(world: World) -> float:
    assert world.traffic is not None
    world.traffic.start(world.list_stream())
    world.traffic.start(world.create_stream())
    time.sleep(1.5)  # a healthy stretch before the fault
    return time.monotonic() - 1.5


def finish(world: World, result: DrillResult, started: float) -> None:
    assert world.traffic is not None
    world.traffic.stop()
    result.records = world.traffic.between(started, time.monotonic())


def metric_values(text: str, name: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)]


# --- PostgreSQL ------------------------------------------------------------------------------------
def postgres_restart(world: World) -> DrillResult:
    result = DrillResult("PostgreSQL restarted (stop -m fast, 3 s down)")
    probe = world.new_key()
    for _ in range(6):  # the probe key's caller row, cached by the workers
        world.get(world.path(), probe)
    assert world.server is not None
    workers = sorted(w.pid for w in world.server.workers())
    started = start_steady(world)
    fault = time.monotonic()
    world.pg.stop("fast")
    time.sleep(3)
    world.pg.start()
    back = time.monotonic()
    listening = world.listeners()
    # Revoked while the LISTEN connections are (most likely) still away: its NOTIFY is missed, so
    # only the bypassed caller cache keeps the old row from answering 200.
    world.delete_key(probe)
    probes = []
    for _ in range(10):
        try:
            probes.append(world.get(world.path(), probe).status_code)
        except httpx.HTTPError:
            probes.append(0)
        time.sleep(0.1)
    waited = wait_for(lambda: world.listeners() >= 4, 20)
    listen_s = None if waited is None else time.monotonic() - back
    time.sleep(2)
    finish(world, result, started)
    outage = [r for r in result.records if fault <= r.started < back and not r.ok]
    wrong = [r for r in outage if not (r.status == 503 and r.code == "database_unavailable")]
    slowest = max((r.seconds for r in outage), default=0.0)
    result.check(
        "requests during the outage answer 503 database_unavailable",
        not wrong and bool(outage),
        f"{len(outage)} failed during the outage, {len(wrong)} otherwise "
        f"({sorted({(r.status, r.code or r.outcome) for r in wrong})})",
    )
    result.check(f"...within {OUTAGE_ANSWER_S:.0f} s", slowest <= OUTAGE_ANSWER_S, f"slowest {slowest:.2f} s")
    result.recovery_s = recovery_after(result.records, back)
    result.check(
        f"serving resumes within {RESUME_S:.0f} s of PostgreSQL's return, workers not restarted",
        result.recovery_s is not None
        and result.recovery_s <= RESUME_S
        and sorted(w.pid for w in world.server.workers()) == workers,
        f"{result.recovery_s and round(result.recovery_s, 2)} s; worker pids {workers}, after {sorted(w.pid for w in world.server.workers())}",
    )
    result.check(
        "the LISTEN connections come back (2 per worker)",
        listen_s is not None,
        f"{listening} at PostgreSQL's return, all back {listen_s and round(listen_s, 2)} s later",
    )
    result.check(
        "a key revoked right after the restart is refused at once (caller cache bypassed)",
        200 not in probes,
        f"answers {probes}",
    )
    check_creates(world, result)
    return result


# --- Redis ---------------------------------------------------------------------------------------------
def redis_restart(world: World) -> DrillResult:
    result = DrillResult("Redis stopped for 4 s, then started")
    assert world.traffic is not None
    state = world.sandbox.state
    grants_before = state.count_calls("slack", "oauth.v2.access")
    started = start_steady(world)
    fault = time.monotonic()
    world.redis.stop()
    time.sleep(0.5)
    storm = world.traffic.burst(
        world.channels_stream([world.refresh_ids["redis"]], 1, "refresh storm"), 16
    ).result(CLIENT_TIMEOUT + 5)
    time.sleep(max(0.0, fault + 4 - time.monotonic()))
    world.redis.start()

    def all_up() -> bool:
        # One gauge per worker process (pid label, multiprocess mode): every live worker's must be 1.
        text = world.metrics()
        live = [w.pid for w in world.server.workers()] if world.server else []
        values = {
            int(m.group(1)): float(m.group(2))
            for m in re.finditer(r'^patchbay_redis_up{pid="(\d+)"} (\S+)$', text, re.M)
        }
        return bool(live) and all(values.get(pid) == 1.0 for pid in live)

    up_s = wait_for(all_up, 30, 0.2)
    time.sleep(1)
    finish(world, result, started)
    failed = [r for r in result.records if r.stream in ("list", "create") and not r.ok]
    result.check("lists and creates keep answering 2xx", not failed, f"{len(failed)} failed")
    grants = state.count_calls("slack", "oauth.v2.access") - grants_before
    result.check(
        "a refresh storm (16 at once) during the outage refreshes exactly once",
        grants == 1 and all(r.ok for r in storm),
        f"{grants} refresh grants; answers {sorted({r.status for r in storm})}",
    )
    fallbacks = sum(metric_values(world.metrics(), "patchbay_redis_fallback_total"))
    result.check("the fallback is counted (patchbay_redis_fallback_total)", fallbacks > 0, f"{fallbacks:.0f}")
    log = world.server_log()
    result.check(
        "a warning is logged, and another on return",
        "Redis unreachable" in log and "Redis reachable again" in log,
        f"{log.count('Redis unreachable')} fallback and {log.count('Redis reachable again')} return lines",
    )
    result.recovery_s = up_s
    result.check(
        "every worker is back on Redis (patchbay_redis_up 1)",
        up_s is not None,
        f"{up_s and round(up_s, 2)} s",
    )
    check_creates(world, result)
    return result


# --- providers -----------------------------------------------------------------------------------------
def _provider_storm(
    world: World,
    result: DrillResult,
    faults: list[tuple[str, str]],
    seconds: float,
    stream: Stream | None = None,
) -> float:
    """A storm (by default channels: 12 connections over 24 integrations) with lists alongside; each
    fault in turn, `seconds` each. Checks that lists keep answering and are not starved; returns when
    the storm started (the storm's own answers are judged by the caller)."""
    assert world.traffic is not None
    state = world.sandbox.state
    world.traffic.start(world.list_stream())
    calm = time.monotonic()
    time.sleep(3)  # the list alone first: its p99 on this machine, now
    world.traffic.start(stream or world.channels_stream(world.storm_ids, 12, interval=STORM_INTERVAL))
    started = time.monotonic()
    for mode, path in faults:
        state.clear_faults("slack")
        state.inject("slack", mode, 10**6, path)
        time.sleep(seconds)
    finish(world, result, started)
    state.clear_faults("slack")
    baseline = p99_ms(world.traffic.between(calm + 0.5, started, "list"))
    lists = [r for r in result.records if r.stream == "list" and r.started > started + 1]
    list_p99 = p99_ms(lists)
    result.list_p99_ms, result.list_baseline_p99_ms = list_p99, baseline
    failed_lists = [r for r in lists if not r.ok]
    result.check("lists keep answering 2xx", not failed_lists, f"{len(failed_lists)} of {len(lists)} failed")
    # The promise is absolute (docs/reliability.md); the check is a ratio to the list alone just
    # before, measured in the same run, so a busy machine does not fail it.
    result.check(
        f"list p99 at most {STARVATION_RATIO:g}x the list alone, + 10 ms (target: under {LIST_P99_MS:.0f} ms)",
        list_p99 <= STARVATION_RATIO * baseline + 10,
        f"p99 {list_p99:.1f} ms over {len(lists)} lists (alone just before: {baseline:.1f} ms)",
        speed=True,
    )
    return started


def _channels_storm(world: World, result: DrillResult, faults: list[tuple[str, str]], seconds: float) -> None:
    _provider_storm(world, result, faults, seconds)
    storm = [r for r in result.records if r.stream == "channels"]
    slowest = max((r.seconds for r in storm), default=0.0)
    unhandled = [
        r for r in storm if r.status == 500 or r.outcome != "answered" or (r.status >= 400 and not r.code)
    ]
    result.check(
        "every channels request answered, failures in the envelope",
        not unhandled,
        f"codes {sorted({r.code for r in storm if r.code})}, {len(unhandled)} otherwise",
    )
    result.check("bounded latency", slowest < CLIENT_TIMEOUT, f"slowest channels answer {slowest:.2f} s")


def slack_hangs(world: World) -> DrillResult:
    result = DrillResult("Slack hangs during a channels storm")
    world.sandbox.state.timeout_seconds = 30.0
    _channels_storm(world, result, [("timeout", "conversations.list")], 8)
    result.notes.append(f"PATCHBAY_HTTP_TIMEOUT={HTTP_TIMEOUT:g}: each attempt is cut after it")
    return result


def slack_errors(world: World) -> DrillResult:
    result = DrillResult("Slack answers 500, then garbage, during a channels storm")
    _channels_storm(world, result, [("500", "conversations.list"), ("malformed", "conversations.list")], 4)
    return result


def refresh_storm_errors(world: World) -> DrillResult:
    result = DrillResult("Token endpoint answers 500 during a refresh storm")
    assert world.traffic is not None
    state = world.sandbox.state
    before = state.count_calls("slack", "oauth.v2.access")
    state.inject("slack", "500", 10**6, "oauth.v2.access")
    stream = world.channels_stream([world.refresh_ids["provider"]], 1, "refresh storm")
    result.records = world.traffic.burst(stream, 16).result(CLIENT_TIMEOUT + 5)
    state.clear_faults("slack")
    grants = state.count_calls("slack", "oauth.v2.access") - before
    # 5xx while the refresh fails; once it has failed, the integration is marked and further
    # requests are told to reconnect (400 slack_integration_inactive, as PostHog answers).
    odd = [r for r in result.records if r.status < 400 or r.status == 500 or not r.code]
    result.check(
        "every request answered in the envelope, none a bare 500",
        not odd,
        f"{sorted({(r.status, r.code) for r in result.records})}",
    )
    slowest = max((r.seconds for r in result.records), default=0.0)
    result.check("bounded latency", slowest < CLIENT_TIMEOUT, f"slowest {slowest:.2f} s")
    result.check(
        "the provider is asked once per attempt, not once per request", grants <= 3, f"{grants} refresh calls"
    )
    return result


def proxy_storm(world: World) -> DrillResult:
    """Proxy calls (12 connections over 24 integrations) while Slack hangs, then answers 500, then
    garbage. The provider's answers are passed on as they came (marked `Patchbay-Proxy: upstream`);
    a provider that does not answer within PATCHBAY_HTTP_TIMEOUT is Patchbay's 503
    provider_unreachable, in the envelope, about that long after the call."""
    result = DrillResult("Slack hangs, answers 500, then garbage, during a proxy storm")
    world.sandbox.state.timeout_seconds = 30.0
    stream = world.proxy_stream(world.storm_ids, 12, "auth.test", interval=STORM_INTERVAL)
    faults = [("timeout", "auth.test"), ("500", "auth.test"), ("malformed", "auth.test")]
    started = _provider_storm(world, result, faults, PROXY_FAULT_S, stream)
    calls = [r for r in result.records if r.stream == "proxy"]
    unreachable = [
        r for r in calls if r.status == 503 and r.code == "provider_unreachable" and not r.upstream
    ]
    passed_on = [r for r in calls if r.upstream]
    odd = [r for r in calls if r not in passed_on and r not in unreachable]
    result.check(
        "every proxy call answered: the provider's answer (marked) or 503 provider_unreachable",
        bool(calls) and not odd,
        f"{len(passed_on)} passed on (statuses {sorted({r.status for r in passed_on})}), "
        f"{len(unreachable)} provider_unreachable, {len(odd)} otherwise "
        f"{sorted({(r.outcome, r.status, r.code) for r in odd})[:4]}",
    )
    hung = [r for r in calls if r.started < started + PROXY_FAULT_S]
    result.check(
        "a hanging provider is cut: 503 provider_unreachable",
        any(r in unreachable for r in hung),
        f"{sum(r in unreachable for r in hung)} of {len(hung)} calls while Slack hung",
    )
    slowest = max((r.seconds for r in calls), default=0.0)
    result.check("bounded latency", slowest < CLIENT_TIMEOUT, f"slowest proxy answer {slowest:.2f} s")
    cut = max((r.seconds for r in unreachable), default=0.0)
    # The promise (PATCHBAY_HTTP_TIMEOUT) is a time, so reported, not asserted: a busy machine adds to it.
    result.check(
        f"503 within PATCHBAY_HTTP_TIMEOUT ({HTTP_TIMEOUT:g} s) + 1 s",
        cut < HTTP_TIMEOUT + 1.0,
        f"slowest 503 {cut:.2f} s",
        speed=True,
    )
    statuses = {r.status for r in passed_on if r.started > started + PROXY_FAULT_S}
    result.check(
        "the provider's 500 and garbage are passed on as they came",
        {500, 200} <= statuses,
        f"upstream statuses after the hang: {sorted(statuses)}",
    )
    result.notes.append(f"PATCHBAY_HTTP_TIMEOUT={HTTP_TIMEOUT:g}: each hanging call is cut after it")
    return result


# --- workers ---------------------------------------------------------------------------------------------
def worker_killed(world: World) -> DrillResult:
    result = DrillResult("One worker killed with SIGKILL")
    assert world.server is not None
    started = start_steady(world)
    before = sorted(w.pid for w in world.server.workers())
    victim = before[0]
    fault = time.monotonic()
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        pids = [w.pid for w in world.server.workers()] if world.server else []
        return len(pids) >= 2 and victim not in pids

    # uvicorn's supervisor looks every 0.5 s, but pings each live worker first (up to its health-check
    # timeout): on a loaded 2-core machine a replacement has been seen to take longer than 20 s.
    replaced_s = wait_for(replaced, 60)
    time.sleep(3)  # the new worker imports and starts serving
    finish(world, result, started)
    unanswered = [r for r in result.records if r.outcome != "answered"]
    errors = [r for r in result.records if r.status >= 500]
    result.check(
        "clients lose at most the requests the dead worker held (one per connection)",
        len(unanswered) <= STEADY_CONNECTIONS and not errors,
        f"{len(unanswered)} unanswered ({sorted({r.outcome for r in unanswered})}), {len(errors)} 5xx",
    )
    result.check(
        "the dead worker is replaced",
        replaced_s is not None,
        f"after {replaced_s and round(replaced_s, 2)} s (workers {before}, then "
        f"{sorted(w.pid for w in world.server.workers())})"
        + ("" if replaced_s is not None else f"; supervisor log: {world.server.tail(5)}"),
    )
    result.recovery_s = recovery_after(result.records, fault)
    check_creates(world, result)
    return result


def sigterm(world: World) -> DrillResult:
    result = DrillResult("SIGTERM under load")
    assert world.server is not None and world.server.proc is not None and world.traffic is not None
    world.sandbox.state.provider_data("slack")["refresh_delay"] = 1.5  # requests that take a while
    started = start_steady(world)
    slow = world.traffic.burst(world.channels_stream([world.refresh_ids["sigterm"]], 1, "in flight"), 4)
    time.sleep(0.3)
    fault = time.monotonic()
    world.server.proc.send_signal(signal.SIGTERM)
    exited_s = wait_for(lambda: world.server is not None and world.server.proc is not None
                        and world.server.proc.poll() is not None, 40)  # fmt: skip
    time.sleep(0.5)
    finish(world, result, started)
    in_flight = slow.result(CLIENT_TIMEOUT + 5)
    world.sandbox.state.provider_data("slack")["refresh_delay"] = 0
    result.records += in_flight
    result.check(
        "requests in flight at SIGTERM finish (1.5 s provider calls)",
        all(r.ok for r in in_flight),
        f"answers {[r.status or r.outcome for r in in_flight]}",
    )
    before = [r for r in result.records if r.started < fault and r.outcome != "answered"]
    result.check("every request before SIGTERM answered", not before, f"{len(before)} unanswered")
    cut = [r for r in result.records if r.outcome == "cut"]
    result.check("no answer cut short", not cut, f"{len(cut)} cut")
    after = [r for r in result.records if r.started > fault + (exited_s or 0)]
    result.check(
        "the server exits; later requests are refused, not left hanging",
        exited_s is not None and all(r.outcome in ("refused", "closed") for r in after),
        f"exited {exited_s and round(exited_s, 2)} s after SIGTERM; later: "
        f"{sorted({r.outcome for r in after})}",
    )
    result.recovery_s = None
    check_creates(world, result)
    result.check(
        "nothing written without its answer", result.unacknowledged_written == 0,
        f"{result.unacknowledged_written} stored but unanswered",
    )  # fmt: skip
    return result


DRILLS: list[Callable[[World], DrillResult]] = [
    postgres_restart,
    redis_restart,
    slack_hangs,
    slack_errors,
    refresh_storm_errors,
    proxy_storm,
    worker_killed,
    sigterm,
]
