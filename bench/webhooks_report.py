"""The Markdown report of `python -m bench webhooks` (bench/webhooks.py)."""

from __future__ import annotations

from typing import Any


def report(data: dict[str, Any]) -> str:
    env, events = data["environment"], data["events"]

    def mean(run: str, field: str) -> float:
        values = [r.get(field, 0.0) for r in data["create"][run]]
        return sum(values) / len(values) if values else 0.0

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
        f"| CPU of the two workers per delivered event | {events.get('worker_cpu_ms_per_event', '—')} ms | |",
        "",
        f"## The create benchmark with and without publishing ({env['connections']} connections, "
        f"{env['duration']} s per run, alternated)",
        "",
        "The server's delivery loops are off for these runs (PATCHBAY_WEBHOOK_DELIVERY=false): they measure "
        "publishing, delivery is measured above. Without: the endpoint is disabled (the create's statement "
        "finds no subscriber). With: it subscribes to integration.created and integration.updated. *distinct*: every "
        "request connects a new account (an insert), and on PostgreSQL the create's one statement also writes "
        "the event's delivery (one row carrying the event); *one row*: every request re-creates the same account (an update; all "
        "connections queue on its row lock), and with an integration.updated subscriber the statement leaves "
        "the row to the session's transaction (the upsert, the event, the commit).",
        "",
        "| run | req/s | p50 ms | p99 ms | worker CPU ms per request |",
        "|---|---:|---:|---:|---:|",
    ]
    shapes = sorted({key.split(" ", 1)[1] for key in data["create"]})
    for shape in shapes:
        for mode in ("without", "with"):
            for i, r in enumerate(data["create"][f"{mode} {shape}"], start=1):
                lines.append(
                    f"| {shape}, {mode} publishing, round {i} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | "
                    f"{r['p99_ms']:.1f} | {r.get('cpu_ms', 0.0):.2f} |"
                )
    lines += [
        "",
        "| creates | req/s without → with | added | worker CPU ms per request without → with | added | target |",
        "|---|---|---:|---|---:|---|",
    ]
    for shape in shapes:
        without, with_ = mean(f"without {shape}", "rps"), mean(f"with {shape}", "rps")
        added = 100 * (without - with_) / without if without else 0.0
        cpu_without, cpu_with = mean(f"without {shape}", "cpu_ms"), mean(f"with {shape}", "cpu_ms")
        cpu_added = 100 * (cpu_with - cpu_without) / cpu_without if cpu_without else 0.0
        met = ("met" if cpu_added < 10 else "NOT met") if cpu_without else "not measured"
        target = f"< 10 % (CPU) — {met}" if shape == "distinct" else "(shown)"
        lines.append(
            f"| {shape} | {without:,.0f} → {with_:,.0f} | {added:+.1f} % | {cpu_without:.2f} → {cpu_with:.2f} | "
            f"{cpu_added:+.1f} % | {target} |"
        )
    lines.append("")
    return "\n".join(lines)
