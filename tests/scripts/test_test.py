"""`scripts/test` (issue 17 item 14): extra arguments reach pytest; --quick / QUICK=1 skip ruff and mypy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/kit/test_pagination.py"


def run_script(*args: str, quick_env: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QUICK"}
    if quick_env:
        env["QUICK"] = "1"
    return subprocess.run(
        [str(ROOT / "scripts" / "test"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def collected(stdout: str) -> set[str]:
    return {line.split("::")[0] for line in stdout.splitlines() if "::" in line}


def test_quick_mode_runs_pytest_alone_with_the_arguments_given() -> None:
    for result in (
        run_script("--quick", "--collect-only", "-q", TARGET),
        run_script("--collect-only", "-q", TARGET, quick_env=True),
    ):
        assert result.returncode == 0, result.stderr[-2000:]
        assert "ruff ..." not in result.stderr and "mypy ..." not in result.stderr
        assert "pytest ..." in result.stderr
        assert collected(result.stdout) == {TARGET}, "only the file asked for"


def test_default_mode_lints_and_type_checks_first() -> None:
    result = run_script("--collect-only", "-q", TARGET)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        result.stderr.index("ruff ...") < result.stderr.index("mypy ...") < result.stderr.index("pytest ...")
    )
    assert collected(result.stdout) == {TARGET}
