"""Run `patchbay` as a user does: a subprocess with only the PATCHBAY_* settings given."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "patchbay.cli.main", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(args: list[str], env: dict[str, str], cwd: Path) -> Any:
    result = run([*args, "--json"], env, cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
