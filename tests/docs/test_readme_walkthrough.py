"""The README's first steps, pasted as a new user would: `patchbay serve --demo --sandbox` in an
empty directory, then every shell block of "Two commands" run in order by bash. Twilio connected,
Slack connected through its OAuth flow, a message posted through the proxy, a token handed to
slack_sdk: each block must succeed and answer what the README says it answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def quickstart_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Two commands\n", 1)[1].split("\nRun the whole test suite", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks[0].startswith("scripts/demo"), blocks[0]  # the server: started by the test
    return blocks[1:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int, str]]:
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)  # the README calls .venv/bin/…
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed with the process below
    server = subprocess.Popen(
        [str(VENV_BIN / "patchbay"), "serve", "--demo", "--sandbox", "--port", str(port), "--no-refresher"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        sandbox = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = (tmp_path / "serve.log").read_text()
            found = re.search(r"sandbox providers at (http://\S+)", text)
            sandbox = found.group(1) if found else ""
            if sandbox and "Patchbay is listening" in text:
                break
            assert server.poll() is None, text
            time.sleep(0.1)
        else:
            pytest.fail((tmp_path / "serve.log").read_text())
        yield tmp_path, port, sandbox
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_the_quickstart_works_as_pasted(served: tuple[Path, int, str]) -> None:
    directory, port, sandbox = served
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    script = ["set -euo pipefail"]
    for number, block in enumerate(quickstart_blocks()):
        block = block.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
        block = block.replace("SANDBOX=http://127.0.0.1:PORT", f"SANDBOX={sandbox}")
        script += [block, f"echo; echo '=== block {number} done'"]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=directory, env=env, capture_output=True, text=True, timeout=180
    )
    outputs = done.stdout
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert outputs.count("=== block") == len(quickstart_blocks())
    by_block = re.split(r"\n=== block \d+ done\n", outputs)
    twilio, slack, proxy, credentials, sdk = (by_block + [""] * 6)[1:6]
    assert '"phone_number"' in twilio, twilio  # the Twilio numbers list
    assert '"general"' in slack, slack  # Slack's channels, after the OAuth flow
    assert '"ok":true' in proxy.replace(" ", "") and '"channel"' in proxy, proxy  # Slack's answer
    assert '"access_token": "xoxb-' in credentials.replace('":"', '": "'), credentials
    assert "refresh_token" not in credentials
    assert sdk.strip().endswith("True"), sdk
