"""`patchbay users set-password`: the password from standard input, stored as argon2id, never echoed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import run_json


def _set_password(env: dict[str, str], cwd: Path, email: str, stdin: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")} | env
    return subprocess.run(
        [sys.executable, "-m", "patchbay.cli.main", "users", "set-password", "--email", email],
        env=full_env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_set_password_reads_stdin_and_stores_an_argon2id_hash(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = {"PATCHBAY_DATABASE_URL": f"sqlite:///{db}"}
    run_json(["bootstrap", "--email", "ada@example.com"], env, tmp_path)
    secret = "a sentinel password 7f3a"
    done = _set_password(env, tmp_path, "Ada@Example.com", secret + "\n")
    assert done.returncode == 0, done.stderr
    assert "password set for ada@example.com" in done.stdout and secret not in done.stdout + done.stderr
    (stored,) = sqlite3.connect(db).execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$") and secret not in stored


def test_set_password_refusals(tmp_path: Path) -> None:
    env = {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    run_json(["bootstrap", "--email", "ada@example.com"], env, tmp_path)
    short = _set_password(env, tmp_path, "ada@example.com", "short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    empty = _set_password(env, tmp_path, "ada@example.com", "")
    assert empty.returncode == 1 and "standard input" in empty.stderr
    unknown = _set_password(env, tmp_path, "nobody@example.com", "long enough password\n")
    assert unknown.returncode == 1 and "no active user" in unknown.stderr
