"""`scripts/demo` (issue 17 item 10): it says where it listens only once the server answers, prints
a curl that works, documents --port, and hands out the same demo key on every run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx

from patchbay.sandbox.server import free_port
from tests.cli.helpers import run

ROOT = Path(__file__).resolve().parents[2]


def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    env["PATCHBAY_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    return env


def serve_demo(tmp_path: Path) -> tuple[str, str]:
    """Run scripts/demo until it has printed the curl line; check what it says while it runs."""
    port = free_port()
    demo = subprocess.Popen(
        [str(ROOT / "scripts" / "demo"), "--port", str(port)],
        cwd=tmp_path, env=demo_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert demo.stdout is not None
    try:
        listening = demo.stdout.readline()
        assert listening.startswith(f"Patchbay is listening on http://127.0.0.1:{port}"), listening
        # Said once it answers: the very next request is served.
        assert httpx.get(f"http://127.0.0.1:{port}/_health").status_code == 200
        key_line = demo.stdout.readline()
        curl_line = demo.stdout.readline()
        key = key_line.removeprefix("demo API key: ").strip()
        assert key.startswith("phx_") and key in curl_line
        match = re.fullmatch(r"try: curl -H 'Authorization: Bearer (phx_\w+)' (\S+)\n", curl_line)
        assert match, curl_line
        answer = httpx.get(match.group(2), headers={"Authorization": f"Bearer {match.group(1)}"})
        assert answer.status_code == 200 and answer.json()["count"] == 0
        return key, curl_line
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)


def test_demo_announces_itself_and_keeps_one_key(tmp_path: Path) -> None:
    first_key, _ = serve_demo(tmp_path)
    key_file = tmp_path / "patchbay.demo-key"
    assert key_file.read_text().strip() == first_key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again, _ = serve_demo(tmp_path)
    assert again == first_key, "the stored demo key is reused"

    key_file.unlink()
    fresh, _ = serve_demo(tmp_path)
    assert fresh != first_key
    env = {"PATCHBAY_DATABASE_URL": demo_env(tmp_path)["PATCHBAY_DATABASE_URL"]}
    keys = run(["keys", "list", "--email", "demo@patchbay.local", "--json"], env, tmp_path)
    assert [k["label"] for k in json.loads(keys.stdout)["results"]] == ["demo"], "the old demo key is gone"


def test_demo_documents_port() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "scripts/demo --port 8001" in result.stdout
