"""`patchbay keys list` and `keys revoke` (issue 17 item 9): a revoked key is refused by every
worker of a running server from the next request on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from patchbay.sandbox.server import free_port
from tests.cli.helpers import run, run_json
from tests.conftest import POSTGRES_URL
from tests.support.pg import create_database, drop_database


def test_keys_list_shows_everything_but_the_value(tmp_path: Path) -> None:
    env = {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    boot = run_json(["bootstrap", "--email", "ada@example.com"], env, tmp_path)
    made = run_json(
        ["keys", "create", "--email", "ada@example.com", "--label", "ci", "--scopes", "integration:read"],
        env, tmp_path,
    )  # fmt: skip
    listed = run_json(["keys", "list", "--email", "Ada@Example.com"], env, tmp_path)
    assert listed["count"] == 2
    ci = next(k for k in listed["results"] if k["id"] == made["id"])
    assert set(ci) == {
        "id", "label", "mask_value", "scopes", "scoped_projects", "scoped_organizations", "created_at",
        "last_used_at",
    }  # fmt: skip
    assert ci["label"] == "ci" and ci["scopes"] == ["integration:read"] and ci["last_used_at"] is None
    assert ci["mask_value"].startswith("phx_") and ci["mask_value"].endswith(made["value"][-4:])
    human = run(["keys", "list", "--email", "ada@example.com"], env, tmp_path)
    for output in (human.stdout + human.stderr, str(listed)):
        assert made["value"] not in output and boot["api_key"] not in output
    assert f"{made['id']}" in human.stdout and "last used never" in human.stdout

    revoked = run(["keys", "revoke", made["id"]], env, tmp_path)
    assert revoked.returncode == 0 and made["id"] in revoked.stdout
    assert [
        k["label"] for k in run_json(["keys", "list", "--email", "ada@example.com"], env, tmp_path)["results"]
    ] == ["bootstrap"]
    again = run(["keys", "revoke", made["id"]], env, tmp_path)
    assert again.returncode == 1 and f"no API key with id {made['id']}" in again.stderr
    nobody = run(["keys", "list", "--email", "ghost@example.com"], env, tmp_path)
    assert nobody.returncode == 1 and "no user with email ghost@example.com" in nobody.stderr


def wait_until_serving(url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/_health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)


def test_revoke_is_refused_by_every_worker_at_once(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("PATCHBAY_TEST_POSTGRES_URL not set")
    url = create_database(POSTGRES_URL, f"patchbay_revoke_{os.urandom(4).hex()}")
    port = free_port()
    env = {
        "PATCHBAY_DATABASE_URL": url,
        "PATCHBAY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PATCHBAY_RATE_LIMIT": "off",
    }
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")} | env
    log = tmp_path / "server.log"
    server = None
    try:
        boot = run_json(["bootstrap", "--email", "ops@example.com"], env, tmp_path)
        doomed = run_json(
            ["keys", "create", "--email", "ops@example.com", "--label", "doomed"], env, tmp_path
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "patchbay.cli.main", "serve", "--port", str(port), "--workers", "2",
             "--no-refresher"],
            env=server_env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log.open("w"),
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, log)
        endpoint = f"{base}/api/projects/@current/integrations/"
        with httpx.Client(timeout=10) as http:
            # Fresh connections spread the calls over both workers, so both have the caller cached.
            for _ in range(20):
                with httpx.Client(timeout=10) as fresh:
                    assert (
                        fresh.get(
                            endpoint, headers={"Authorization": f"Bearer {doomed['value']}"}
                        ).status_code
                        == 200
                    )
            assert run(["keys", "revoke", doomed["id"]], env, tmp_path).returncode == 0
            for _ in range(20):
                with httpx.Client(timeout=10) as fresh:
                    refused = fresh.get(endpoint, headers={"Authorization": f"Bearer {doomed['value']}"})
                    assert refused.status_code == 401, refused.text
            kept = http.get(endpoint, headers={"Authorization": f"Bearer {boot['api_key']}"})
            assert kept.status_code == 200, "other keys keep working"
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        drop_database(POSTGRES_URL, url)
