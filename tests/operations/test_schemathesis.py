"""Schemathesis over /api/schema against a live `patchbay serve`: no 5xx, no response that breaks
the schema. Every route in the schema is exercised, so new routes need no edit here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from patchbay.sandbox.server import free_port


@pytest.mark.timeout(600)  # a fuzz over every operation: minutes on a busy machine, not a hang
def test_schemathesis_finds_no_server_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    port = free_port()
    env.update(
        {
            "PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'st.db'}",
            "PATCHBAY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
            "PATCHBAY_RATE_LIMIT": "off",
            "PATCHBAY_RATE_LIMIT_ANONYMOUS": "off",
            "PATCHBAY_HTTP_TIMEOUT": "2",
            # Nothing answers DNS here: fail fast instead of waiting for the system resolver.
            "PATCHBAY_DNS_NAMESERVERS": f"127.0.0.1:{free_port()}",
        }
    )
    cli = [sys.executable, "-m", "patchbay.cli.main"]
    boot = subprocess.run(
        [*cli, "bootstrap", "--email", "st@example.com", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert boot.returncode == 0, boot.stderr
    key = json.loads(boot.stdout)["api_key"]
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--sandbox", "--no-refresher"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-2000:]
            time.sleep(0.2)
        boot_data = json.loads(boot.stdout)
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/projects/{boot_data['project']['id']}/integrations/",
            json={
                "kind": "databricks",
                "config": {"server_hostname": "52.1.2.3", "client_id": "c", "client_secret": "s"},
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert created.status_code == 201, created.text
        # Real ids for the path parameters, so generated requests get past the tenant lookup.
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            "[parameters]\n"
            f'"path.project_id" = "{boot_data["project"]["id"]}"\n'
            f'"path.organization_id" = "{boot_data["organization"]["id"]}"\n'
            f'"path.id" = "{created.json()["id"]}"\n'
        )
        result = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "schemathesis"), "--config-file", str(config), "run", f"http://127.0.0.1:{port}/api/schema",
                "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
                "-H", f"Authorization: Bearer {key}",
                "--max-examples", os.environ.get("PATCHBAY_SCHEMATHESIS_EXAMPLES", "12"),
                "--phases", "examples,coverage,fuzzing",
                "--seed", "1", "--workers", "1", "--no-color", "--request-timeout", "10",
                "--generation-database", "none", "--suppress-health-check", "all",
            ],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        output = result.stdout
        start = max(
            0, min((i for i in (output.find("ERRORS"), output.find("FAILURES")) if i >= 0), default=0)
        )
        assert result.returncode == 0, output[start : start + 8000] + result.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=20)
