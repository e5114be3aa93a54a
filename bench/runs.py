"""What `python -m bench` measures: the sizes and durations of its two modes, and each run on
Patchbay's server (its request, the answer it expects and the report's description of it)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from bench.load import ADDRESS, Target
from bench.seed import BENCH_PROJECT_ROWS, UPSERT_HOSTNAME, Seeded


@dataclass(frozen=True)
class Mode:
    name: str
    orgs: int
    projects: int
    integrations: int
    scale_small: int
    scale_large: int
    duration: float
    warmup: float


FULL = Mode("full", 1_000, 10_000, 200_000, 1_000, 1_000_000, duration=20, warmup=5)
QUICK = Mode("quick", 100, 1_000, 20_000, 1_000, 100_000, duration=5, warmup=2)

# Public addresses outside every range the distinct runs use (bench.load.next_first_octet).
PROBE_ADDRESS = "1.1.1.1"
CREATE_PROBE = {
    "kind": "databricks",
    "config": {"server_hostname": "9.9.9.9", "client_id": "bench", "client_secret": "bench-secret"},
}

PUBLISHING = "create (distinct), publishing"


def distinct_create(url: str, auth: dict[str, str]) -> Target:
    """POST a databricks integration for a different public address on every request."""
    body = {
        "kind": "databricks",
        "config": {"server_hostname": ADDRESS, "client_id": "b", "client_secret": "s"},
    }
    return Target(
        "create (distinct)", url, method="POST", headers={**auth, "Content-Type": "application/json"},
        body=orjson.dumps(body).decode(), expect_status=201,
    )  # fmt: skip


def channels_route_exists() -> bool:
    from patchbay.routing import PROJECT_ROUTERS

    return any(
        getattr(r, "path", "").endswith("/channels") for router in PROJECT_ROUTERS for r in router.routes
    )


def patchbay_runs(
    list_target: Target,
    server_url: str,
    auth: dict[str, str],
    seeded: Seeded,
    base: str,
    create_base: str,
    *,
    slack_channels: bool,
) -> list[tuple[str, Target, str]]:
    """The runs on Patchbay's server, in order: (name, target, description)."""
    runs = [
        (
            "list",
            list_target,
            f"GET {base} — the first page ({BENCH_PROJECT_ROWS} integrations) with a valid key.",
        ),
        (
            "retrieve",
            Target("retrieve", f"{server_url}{base}{seeded.retrieve_id}/", headers=auth),
            f"GET {base}{seeded.retrieve_id}/ with a valid key.",
        ),
        (
            "create (upsert)",
            Target(
                "upsert",
                server_url + base,
                method="POST",
                headers={**auth, "Content-Type": "application/json"},
                body=orjson.dumps(
                    {
                        "kind": "databricks",
                        "config": {
                            "server_hostname": UPSERT_HOSTNAME,
                            "client_id": "bench",
                            "client_secret": "bench-secret",
                        },
                    }
                ).decode(),
                expect_status=201,
            ),
            f"POST {base} a databricks integration for {UPSERT_HOSTNAME} that already exists, on every "
            "request: the re-create of ONE account, every connection queued on one row lock; validation, "
            "secret encryption, the upsert (update), the outbox's lookup, 201.",
        ),
        (
            "create (distinct)",
            distinct_create(server_url + create_base, auth),
            f"POST {create_base} a databricks integration for a new public address on every request: "
            "creates of DISTINCT accounts (many customers connecting at once); validation, secret "
            "encryption, the upsert (insert), the outbox's lookup, 201.",
        ),
        (
            PUBLISHING,
            distinct_create(server_url + create_base, auth),
            f"The same creates with one endpoint of {create_base} subscribed to integration.created: each "
            "create also writes its event's delivery (in the same statement on PostgreSQL). The "
            "server's delivery loops are off (PATCHBAY_WEBHOOK_DELIVERY=false): this measures "
            "publishing, `python -m bench webhooks` measures delivery.",
        ),
    ]
    if slack_channels:
        runs.append(
            (
                "slack channels",
                Target("channels", f"{server_url}{base}{seeded.slack_id}/channels/", headers=auth),
                f"GET {base}{seeded.slack_id}/channels/ — 200 channels, served from the cache after each "
                "worker's first call to the Slack sandbox.",
            )
        )
    runs.append(
        (
            "bad key",
            Target(
                "bad key",
                server_url + base,
                headers={"Authorization": "Bearer phx_" + "x" * 47},
                expect_status=401,
            ),
            f"GET {base} with a well-formed key that does not exist: 401.",
        )
    )
    return runs
