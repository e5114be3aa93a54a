"""`patchbay keys rotate-encryption` killed with SIGKILL mid-run (after its first batch committed)
and started again: the second run finishes the rest, and every secret reads with the new key only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from patchbay.account.rotation import BATCH
from patchbay.kit.crypto import KeyRing
from patchbay.kit.db import Database
from patchbay.models import Integration
from tests.cli.test_cli import _seed_secrets, run

ROWS = 12 * BATCH


async def under_new_key(url: str, new: str) -> tuple[int, int]:
    """(rows the new key alone opens, rows in all)."""
    db = Database(url)
    try:
        async with db.session() as session:
            tokens = (await session.scalars(select(Integration.sensitive_config))).all()
    finally:
        await db.dispose()
    ring = KeyRing([new])
    return sum(1 for token in tokens if ring.is_current(token)), len(tokens)


def test_a_killed_rotation_is_finished_by_the_next_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {"PATCHBAY_DATABASE_URL": url, "PATCHBAY_ENCRYPTION_KEYS": old}
    assert run(["bootstrap", "--email", "k@b.co", "--json"], env, tmp_path).returncode == 0
    asyncio.run(_seed_secrets(url, old, ROWS))

    rotate_env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    rotate_env.update({**env, "PATCHBAY_ENCRYPTION_KEYS": f"{new},{old}"})
    process = subprocess.Popen(
        [sys.executable, "-m", "patchbay.cli.main", "keys", "rotate-encryption", "--json"],
        env=rotate_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # progress is printed after each committed batch
            if "rows checked" in line:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "killed, not finished"
    done, total = asyncio.run(under_new_key(url, new))
    assert total == ROWS and done >= BATCH

    again = run(
        ["keys", "rotate-encryption", "--json"], {**env, "PATCHBAY_ENCRYPTION_KEYS": f"{new},{old}"}, tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"examined": ROWS, "rotated": ROWS - done, "unreadable": 0}
    assert asyncio.run(under_new_key(url, new)) == (ROWS, ROWS)
