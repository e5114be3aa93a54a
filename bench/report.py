"""The report of a run: a Markdown table, a PNG chart and the raw numbers as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunResult:
    name: str  # e.g. "list"
    server: str  # "patchbay" or "baseline"
    description: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non2xx: int
    errors: int
    expected_status: int
    peak_worker_mb: float
    per_worker_mb: list[float]
    tool: str
    rows_in_table: int
    ratio: float | None = None
    single_p50_ms: float | None = None  # scaling runs: p50 at 1 connection (no queueing)
    sql_ms: float | None = None  # scaling runs: the list SQL's execution time (EXPLAIN ANALYZE, median)
    sql_buffers: int | None = None  # scaling runs: buffers (pages) the list SQL touches
    plan: str = ""  # scaling runs: the scans in the list SQL's plan
    new_db_sessions: int = 0  # PostgreSQL sessions opened during the measured window (pool churn)
    app_cpu_us: float = 0.0  # CPU of the server's workers per request
    db_cpu_us: float = 0.0  # CPU of the PostgreSQL backends serving the benchmark database per request


@dataclass
class Target:
    what: str
    goal: str
    measured: str
    ok: bool | None  # None: not measured


@dataclass
class Report:
    mode: str
    started: str
    environment: dict[str, Any]
    seed: dict[str, Any]
    runs: list[RunResult] = field(default_factory=list)
    scaling: list[RunResult] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Distinct creates [without, with] publishing, alternated; the first pair is the main runs'.
    publishing_pairs: list[list[RunResult]] = field(default_factory=list)

    def run(self, name: str, server: str = "patchbay") -> RunResult | None:
        return next((r for r in self.runs if r.name == name and r.server == server), None)


# The targets `python -m bench` repeats at the end of its output (issues 19 and 13).
WRITE_PATH_TARGETS = (
    "create (distinct accounts) p99",
    "create (distinct accounts) throughput",
    "create (distinct accounts) CPU cost",
    "publishing events: CPU added to a create (distinct accounts)",
)


def _pooled(runs: list[RunResult]) -> tuple[float, float, float]:
    """(app µs, PostgreSQL µs, req/s) per request over several runs, weighted by their requests."""
    requests = sum(r.requests for r in runs) or 1
    app = sum(r.app_cpu_us * r.requests for r in runs) / requests
    db = sum(r.db_cpu_us * r.requests for r in runs) / requests
    return app, db, sum(r.rps for r in runs) / len(runs)


def _publishing_target(pairs: list[list[RunResult]]) -> Target:
    """Issue 13: what writing the event's delivery adds to a create, by CPU per request (app +
    PostgreSQL; steadier than req/s on a shared machine), pooled over alternated pairs of runs."""
    app, db, rps = _pooled([pair[0] for pair in pairs])
    app_with, db_with, rps_with = _pooled([pair[1] for pair in pairs])
    without, with_ = app + db, app_with + db_with
    added = with_ / without - 1 if without else None
    each = ", ".join(
        _pct((p[1].app_cpu_us + p[1].db_cpu_us) / (p[0].app_cpu_us + p[0].db_cpu_us) - 1)
        for p in pairs
        if p[0].app_cpu_us + p[0].db_cpu_us
    )
    return Target(
        "publishing events: CPU added to a create (distinct accounts)",
        "< 10 %",
        f"{_pct(added)} over {len(pairs)} alternated pairs of runs ({without:,.0f} → {with_:,.0f} µs; "
        f"pair by pair {each}; the workers alone {_pct(app_with / app - 1 if app else None)}; "
        f"req/s {rps:,.0f} → {rps_with:,.0f})",
        added is not None and added < 0.10,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} %"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def baseline_of(report: Report, run: RunResult) -> RunResult | None:
    """What a run is compared with: creates with the baseline's create, everything else with its list."""
    if run.name.startswith("create"):
        return report.run("create (distinct)", "baseline")
    return report.run("list", "baseline")


def evaluate(report: Report) -> None:
    """Fill in ratios and the issues' targets."""
    for run in report.runs:
        base = baseline_of(report, run)
        run.ratio = run.rps / base.rps if base and base.rps else None
    base = report.run("list", "baseline")
    lst, ret, bad = report.run("list"), report.run("retrieve"), report.run("bad key")
    targets: list[Target] = []
    if lst and base:
        targets.append(
            Target("list throughput", "≥ 0.6 × baseline", f"{lst.ratio:.2f} ×", (lst.ratio or 0) >= 0.6)
        )
    if lst:
        targets.append(Target("list p99", "< 50 ms", f"{lst.p99_ms:.1f} ms", lst.p99_ms < 50))
    if ret and base:
        targets.append(
            Target("retrieve throughput", "≥ 0.7 × baseline", f"{ret.ratio:.2f} ×", (ret.ratio or 0) >= 0.7)
        )
    if bad and lst:
        targets.append(
            Target(
                "bad key rejected at least as fast as a list is served",
                "req/s ≥ list's",
                f"{bad.rps:,.0f} vs {lst.rps:,.0f} req/s",
                bad.rps >= lst.rps,
            )
        )
    create, base_create = report.run("create (distinct)"), report.run("create (distinct)", "baseline")
    if create:
        targets.append(
            Target("create (distinct accounts) p99", "< 50 ms", f"{create.p99_ms:.1f} ms", create.p99_ms < 50)
        )
    if create and base_create:
        targets.append(
            Target(
                "create (distinct accounts) throughput",
                "≥ 0.5 × baseline create",
                f"{create.ratio:.2f} ×",
                (create.ratio or 0) >= 0.5,
            )
        )
    publishing = report.run("create (distinct), publishing")
    if create and publishing:
        targets.append(_publishing_target(report.publishing_pairs or [[create, publishing]]))
    if create and base_create:
        cpu, base_cpu = create.app_cpu_us + create.db_cpu_us, base_create.app_cpu_us + base_create.db_cpu_us
        targets.append(
            Target(
                "create (distinct accounts) CPU cost",
                "≥ 0.5 × baseline create (shown; the target is by req/s)",
                f"{base_cpu / cpu:.2f} × ({base_cpu:,.0f} / {cpu:,.0f} µs)" if cpu else "—",
                None if not cpu else base_cpu / cpu >= 0.5,
            )
        )
    patchbay_runs = [r for r in report.runs + report.scaling if r.server == "patchbay"]
    if patchbay_runs:
        peak = max(r.peak_worker_mb for r in patchbay_runs)
        targets.append(Target("peak memory per worker", "< 150 MB", f"{peak:.0f} MB", peak < 150))
    if len(report.scaling) >= 2:
        small, large = report.scaling[0], report.scaling[-1]
        what = f"list p50 with {large.rows_in_table:,} rows vs {small.rows_in_table:,}"
        ratio = large.p50_ms / small.p50_ms if small.p50_ms else 0.0
        targets.append(
            Target(
                f"{what}, 32 connections",
                "≤ 1.2 ×",
                f"{ratio:.2f} × ({large.p50_ms:.2f} / {small.p50_ms:.2f} ms)",
                ratio <= 1.2,
            )
        )
        if small.plan and large.plan:
            # "No scans": the list reaches its rows through indexes at both sizes. Pages and the SQL's
            # own time are shown beside it (they move with heap layout, not only with table size).
            pages = (
                f"; pages {small.sql_buffers} → {large.sql_buffers}"
                if small.sql_buffers and large.sql_buffers
                else ""
            )
            targets.append(
                Target(
                    "the list SQL reads through indexes only, at both sizes (EXPLAIN)",
                    "no Seq Scan",
                    f"{'Seq Scan' if 'Seq Scan' in small.plan + large.plan else 'index scans only'}{pages}; "
                    f"SQL time {small.sql_ms or 0:.3f} → {large.sql_ms or 0:.3f} ms",
                    "Seq Scan" not in small.plan + large.plan,
                )
            )
        if small.single_p50_ms and large.single_p50_ms:
            ratio = large.single_p50_ms / small.single_p50_ms
            targets.append(
                Target(
                    f"{what}, 1 connection",
                    "≤ 1.2 ×",
                    f"{ratio:.2f} × ({large.single_p50_ms:.2f} / {small.single_p50_ms:.2f} ms)",
                    ratio <= 1.2,
                )
            )
    report.targets = targets


def markdown(report: Report) -> str:
    env, seed = report.environment, report.seed
    out = [
        f"# Patchbay benchmark — {report.mode} run",
        "",
        f"Started {report.started}. Command: `{env.get('command')}`.",
        "",
        "## Set-up",
        "",
        f"- Machine: {env.get('cpus')} CPUs, {env.get('memory_gb')} GB; load average before the run "
        f"{env.get('loadavg_before')}; {env.get('python')}; {env.get('postgres')}.",
        f"- Servers: `patchbay serve --workers {env.get('workers')}` (uvicorn, rate limit off, "
        f"{'Redis ' + str(env.get('redis')) if env.get('redis') else 'in-process cache'}) and the baseline "
        f"(`uvicorn bench.baseline:app --workers {env.get('workers')}`: Starlette on raw asyncpg, no auth).",
        f"- Load: {env.get('load_tool')}, {env.get('connections')} connections, {env.get('duration')} s measured "
        f"after {env.get('warmup')} s of warm-up per run, from a separate process on the same machine.",
        f"- Data: {seed.get('orgs'):,} organizations, {seed.get('projects'):,} projects, {seed.get('users'):,} users "
        f"and keys, {seed.get('integrations'):,} integrations ({seed.get('bench_project_rows')} on the benchmarked "
        f"project); seeded in {seed.get('seed_s', 0):.1f} s.",
        "",
        "## Results",
        "",
        "| run | server | req/s | p50 ms | p99 ms | ratio to baseline | CPU µs/request: app + PostgreSQL "
        "| CPU-cost ratio | non-2xx (expected status) | peak RSS per worker MB | new DB sessions |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in report.runs:
        base = baseline_of(report, r)
        base_cpu = (base.app_cpu_us + base.db_cpu_us) if base else 0.0
        status = f"{r.non2xx:,}" + (f" ({r.expected_status})" if r.expected_status != 200 else "")
        cpu = r.app_cpu_us + r.db_cpu_us
        cpu_ratio = base_cpu / cpu if cpu and base_cpu else None
        out.append(
            f"| {r.name} | {r.server} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {_fmt(r.ratio, 2)} | "
            f"{r.app_cpu_us:,.0f} + {r.db_cpu_us:,.0f} = {cpu:,.0f} | {_fmt(cpu_ratio, 2)} | "
            f"{status} | {r.peak_worker_mb:.0f} ({', '.join(str(m) for m in r.per_worker_mb)}) | "
            f"{r.new_db_sessions} |"
        )
    out += [
        "",
        "*Ratio to baseline* divides requests per second (creates by the baseline's create, the other runs "
        "by the baseline's list). *CPU-cost ratio* divides the baseline's CPU per "
        "request (its workers plus the PostgreSQL backends of the benchmark database) by the run's: the "
        "throughput ratio the two would reach on a machine given to them alone, and a number that other "
        "load on the machine does not move much. *New DB sessions* counts PostgreSQL connections opened "
        "during the measured window (the pools are warm after the warm-up, so more than a few means churn).",
    ]
    out += ["", "What each run sends:", ""]
    for r in report.runs:
        out.append(f"- **{r.name}** ({r.server}): {r.description}")
    if report.scaling:
        out += [
            "",
            "## Scaling: list with more rows in the table",
            "",
            "| integrations in the table | req/s | p50 ms | p99 ms | CPU µs/request: app + PostgreSQL "
            "| p50 ms at 1 connection | list SQL ms (EXPLAIN ANALYZE) | pages the SQL touches | scans in the plan |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in report.scaling:
            out.append(
                f"| {r.rows_in_table:,} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
                f"{r.app_cpu_us:,.0f} + {r.db_cpu_us:,.0f} | {_fmt(r.single_p50_ms, 2)} | {_fmt(r.sql_ms, 3)} | "
                f"{'—' if r.sql_buffers is None else r.sql_buffers} | {r.plan} |"
            )
        out += [
            "",
            "The p50 under 32 connections is mostly queueing behind the CPU, so it moves with whatever else "
            "the machine runs between the two points; the p50 at one connection and the SQL's own time are "
            "the cost of one list, and the plan shows how PostgreSQL reaches the rows.",
        ]
    out += [
        "",
        "## Targets (issues 7, 13 and 19)",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    for t in report.targets:
        met = "—" if t.ok is None else ("yes" if t.ok else "**no**")
        out.append(f"| {t.what} | {t.goal} | {t.measured} | {met} |")
    out += [
        "",
        "Where a target is missed, docs/benchmarks.md gives the profile, what was changed (with before/after "
        "numbers) and what the rest would take.",
    ]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    out += ["", f"![chart]({report.mode}.png)", ""]
    return "\n".join(out)


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = report.runs
    labels = [r.name.replace(" ", "\n") + ("" if r.server == "patchbay" else "\n(baseline)") for r in runs]
    colors = ["#888888" if r.server == "baseline" else "#1f6feb" for r in runs]
    fig, axes = plt.subplots(1, 3 if report.scaling else 2, figsize=(15 if report.scaling else 11, 4.5))
    ax = axes[0]
    bars = ax.bar(labels, [r.rps for r in runs], color=colors)
    ax.bar_label(bars, labels=[f"{r.rps:,.0f}" for r in runs], fontsize=8)
    ax.set_title("Requests per second (higher is better)")
    ax.tick_params(axis="x", labelsize=8)
    ax = axes[1]
    xs = range(len(runs))
    ax.bar([x - 0.2 for x in xs], [r.p50_ms for r in runs], width=0.4, label="p50", color="#1f6feb")
    ax.bar([x + 0.2 for x in xs], [r.p99_ms for r in runs], width=0.4, label="p99", color="#f0883e")
    ax.axhline(50, color="red", linestyle="--", linewidth=1, label="50 ms (list p99 target)")
    ax.set_xticks(list(xs), labels)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title("Latency, ms (lower is better)")
    ax.legend(fontsize=8)
    if report.scaling:
        ax = axes[2]
        xs2 = range(len(report.scaling))
        names = [f"{r.rows_in_table:,} rows" for r in report.scaling]
        bars = ax.bar([x - 0.2 for x in xs2], [r.p50_ms for r in report.scaling], width=0.4, color="#1f6feb",
                      label=f"p50, {report.environment.get('connections')} connections")  # fmt: skip
        ax.bar_label(bars, labels=[f"{r.p50_ms:.1f}" for r in report.scaling], fontsize=8)
        singles = [r.single_p50_ms or 0.0 for r in report.scaling]
        bars = ax.bar([x + 0.2 for x in xs2], singles, width=0.4, color="#2da44e", label="p50, 1 connection")
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in singles], fontsize=8)
        ax.set_xticks(list(xs2), names)
        ax.legend(fontsize=8)
        ax.set_title("List p50 (ms) vs rows in the table")
    fig.suptitle(
        f"Patchbay vs baseline — {report.mode} run, {report.environment.get('connections')} connections"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(report: Report, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    evaluate(report)
    md = out_dir / f"{report.mode}.md"
    md.write_text(markdown(report))
    (out_dir / f"{report.mode}.json").write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    chart(report, out_dir / f"{report.mode}.png")
    return md


def load(path: Path) -> Report:
    data = json.loads(path.read_text())
    runs = {"runs", "scaling", "targets", "publishing_pairs"}
    report = Report(**{k: v for k, v in data.items() if k not in runs})
    report.runs = [RunResult(**r) for r in data["runs"]]
    report.scaling = [RunResult(**r) for r in data["scaling"]]
    report.publishing_pairs = [[RunResult(**r) for r in pair] for pair in data.get("publishing_pairs", [])]
    return report


if __name__ == "__main__":
    # Re-render a report (Markdown and chart) from its JSON: `python -m bench.report bench/results/full.json`.
    import sys

    source = Path(sys.argv[1])
    print(write(load(source), source.parent))
