"""The Markdown report of `python -m bench webhooks` (bench/webhooks.py)."""

from __future__ import annotations

from typing import Any


def report(data: dict[str, Any]) -> str:
    env, events = data["environment"], data["events"]

    def mean(mode: str, field: str) -> float:
        values = [r[field] for r in data["create"][mode]]
        return sum(values) / len(values)

    rps_without, rps_with = mean("without", "rps"), mean("with", "rps")
    p50_without, p50_with = mean("without", "p50_ms"), mean("with", "p50_ms")
    latency = events["latency_ms"]
    lines = [
        f"# Webhooks benchmark ({data['started']})",
        "",
        f"`{env['command']}` — {env['cpus']} CPUs, {env['memory_gb']} GB, Python {env['python']}, "
        f"`patchbay serve --workers {env['workers']}` on PostgreSQL, load average before {env['loadavg_before']}. "
        "The machine was shared with other work while this ran: read the numbers as a floor.",
        "",
        f"## {events['offered']:,} events through {env['workers']} workers to a local receiver",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| events committed at a fixed rate | {events['offered']:,} in {events['offer_seconds']} s "
        f"({events['offered_rate']}/s) | |",
        f"| delivered, distinct webhook-ids | {events['unique']:,} | all — {'met' if events['all_delivered'] else 'NOT met'} |",
        f"| delivered twice or more | {events['twice_or_more']} | none — {'met' if events['twice_or_more'] == 0 else 'NOT met'} |",
        f"| commit-to-delivery p50 | {latency['p50']} ms | < 200 ms — {'met' if latency['p50'] < 200 else 'NOT met'} |",
        f"| commit-to-delivery p99 | {latency['p99']} ms | < 1 s — {'met' if latency['p99'] < 1000 else 'NOT met'} |",
        f"| p90 / max | {latency['p90']} / {latency['max']} ms | |",
        "",
        f"## The create benchmark with and without publishing ({env['connections']} connections, "
        f"{env['duration']} s per run, alternated)",
        "",
        "| run | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for mode in ("without", "with"):
        for i, r in enumerate(data["create"][mode], start=1):
            lines.append(
                f"| {mode} publishing, round {i} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
            )
    added = 100 * (rps_without - rps_with) / rps_without if rps_without else 0.0
    lines += [
        "",
        f"Mean: {rps_without:,.0f} → {rps_with:,.0f} req/s ({added:+.1f} % fewer requests per second with "
        f"publishing), p50 {p50_without:.1f} → {p50_with:.1f} ms. Target: publishing adds < 10 % — "
        f"{'met' if added < 10 else 'NOT met'}. Without: no endpoint is enabled, the hook's one read finds "
        "nothing. With: one endpoint subscribes, and each create also writes an event and its delivery in "
        "its transaction (this server runs with PATCHBAY_WEBHOOK_DELIVERY=false, so the runs measure "
        "publishing; delivery is measured above).",
        "",
    ]
    return "\n".join(lines)
