"""One row per drill: what was sent, how it was answered, how long recovery took, what was lost."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.faults.traffic import Record


@dataclass
class Check:
    what: str
    passed: bool
    measured: str
    # A speed comparison (a p99 against another): reported by `python -m bench.faults`, not asserted
    # by the tests, where another job on the machine could fail it (docs/testing.md).
    speed: bool = False


@dataclass
class DrillResult:
    fault: str
    records: list[Record] = field(default_factory=list)
    recovery_s: float | None = None  # None: not applicable
    acknowledged: int = 0  # creates answered 2xx
    lost: int = 0  # acknowledged creates missing from the database
    unacknowledged_written: int = 0  # creates stored although the client got no 2xx
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str = ""
    list_p99_ms: float | None = None  # provider storms: the list's p99 during the storm ...
    list_baseline_p99_ms: float | None = None  # ... and alone just before it

    def check(self, what: str, passed: bool, measured: str, *, speed: bool = False) -> None:
        self.checks.append(Check(what, passed, measured, speed))

    @property
    def passed(self) -> bool:
        return not self.skipped and all(c.passed for c in self.checks)

    @property
    def by_class(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for r in self.records:
            counts[f"{r.status // 100}xx" if r.status else r.outcome] += 1
        return dict(sorted(counts.items()))

    def row(self) -> list[str]:
        classes = ", ".join(f"{k} {v}" for k, v in self.by_class.items()) or "-"
        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.2f} s"
        lost = f"{self.lost} of {self.acknowledged}" if self.acknowledged else "-"
        verdict = f"skipped: {self.skipped}" if self.skipped else ("pass" if self.passed else "FAIL")
        p99 = "-"
        if self.list_p99_ms is not None and self.list_baseline_p99_ms is not None:
            p99 = f"{self.list_p99_ms:.0f} ms ({self.list_baseline_p99_ms:.0f} ms)"
        return [self.fault, str(len(self.records)), classes, recovery, lost, p99, verdict]


HEADER = [
    "fault",
    "requests",
    "answers",
    "recovered in",
    "creates lost (of acknowledged)",
    "list p99 during (alone)",
    "result",
]


def table(results: list[DrillResult]) -> str:
    rows = [HEADER] + [r.row() for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: list[DrillResult], header: list[str]) -> str:
    out = ["# Fault drills", "", *header, "", *markdown_table(results)]
    out += ["", "## Checks", ""]
    for r in results:
        out.append(f"### {r.fault}")
        out.append("")
        if r.skipped:
            out.append(f"Skipped: {r.skipped}")
        for c in r.checks:
            out.append(f"- {'pass' if c.passed else 'FAIL'}: {c.what} — {c.measured}")
        for note in r.notes:
            out.append(f"- note: {note}")
        if r.unacknowledged_written:
            out.append(f"- note: {r.unacknowledged_written} creates were stored though their answer was lost")
        out.append("")
    return "\n".join(out)


def write(results: list[DrillResult], header: list[str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results, header))
    return path


def markdown_table(results: list[DrillResult]) -> list[str]:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return out + ["| " + " | ".join(r.row()) + " |" for r in results]


def update_docs(results: list[DrillResult], header: list[str], docs: Path) -> bool:
    """Put this run's table between the drills-table markers of docs/reliability.md."""
    start, end = "<!-- drills-table -->", "<!-- /drills-table -->"
    if not docs.exists():
        return False
    text = docs.read_text()
    if start not in text or end not in text:
        return False
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    block = "\n".join([start, *header, "", *markdown_table(results), end])
    docs.write_text(before + block + after)
    return True
