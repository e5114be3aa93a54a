"""`patchbay serve` and `patchbay sandbox` (issue 17 items 10 and 11): a taken port is one clear
line, and the sandbox's printed settings work as a .env file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from patchbay.sandbox.server import free_port
from tests.cli.helpers import run


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            ["serve", "--port", str(port)],
            {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
            tmp_path,
        )
    assert result.returncode == 1
    assert (
        f"cannot listen on 127.0.0.1:{port}" in result.stderr
        and "pick another port with --port" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_sandbox_settings_load_from_a_dotenv_file(tmp_path: Path) -> None:
    """README: `patchbay sandbox > .env` in one terminal, `patchbay serve` beside that .env in another."""
    sandbox_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    env["PATCHBAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    cli = [sys.executable, "-m", "patchbay.cli.main"]
    with (tmp_path / ".env").open("w") as dotenv:
        sandbox = subprocess.Popen(
            [*cli, "sandbox", "--port", str(sandbox_port)], cwd=tmp_path, env=env, stdout=dotenv,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    server = None
    try:
        wait_for(f"http://127.0.0.1:{sandbox_port}/__sim/calls")
        lines = (tmp_path / ".env").read_text().splitlines()
        assert "PATCHBAY_SLACK_CLIENT_ID=" in "\n".join(lines) and all("=" in line for line in lines)
        boot = run(
            ["bootstrap", "--email", "sam@example.com", "--json"],
            {"PATCHBAY_DATABASE_URL": env["PATCHBAY_DATABASE_URL"]},
            tmp_path,
        )
        key = json.loads(boot.stdout)["api_key"]
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(api_port), "--no-refresher"], cwd=tmp_path, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(f"http://127.0.0.1:{api_port}/_health")
        start = httpx.get(
            f"http://127.0.0.1:{api_port}/api/projects/@current/integrations/authorize/?kind=slack&next=/done",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert start.status_code == 302, start.text
        assert start.headers["location"].startswith(f"http://127.0.0.1:{sandbox_port}/")
    finally:
        for process in (server, sandbox):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.2)
