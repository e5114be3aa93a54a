"""py-spy sampling of one worker while load runs, summarised as the functions that hold the CPU."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path


def record(py_spy: str, pid: int, seconds: float, raw_out: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` (collapsed stacks to `raw_out`); the caller waits on it."""
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "250",
         "--format", "raw", "--output", str(raw_out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"; keep function and file:line.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    short = where.split("site-packages/")[-1].split("src/")[-1]
    return f"{name} ({short.rsplit(':', 1)[0]})"


def summarise(raw: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    idle = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        if frames and ("select (selectors.py" in frames[-1] or "run_once" in frames[-1] and len(frames) < 4):
            idle += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples ({idle} idle in the event loop)", "", "Top by inclusive time:"]
    for name, count in inclusive.most_common(top):
        lines.append(f"{100 * count / total:6.1f}%  {name}")
    lines += ["", "Top by own time:"]
    for name, count in own.most_common(top):
        lines.append(f"{100 * count / total:6.1f}%  {name}")
    return "\n".join(lines) + "\n"
