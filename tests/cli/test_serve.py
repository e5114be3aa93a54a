"""`patchbay serve` refuses a port that is taken with one clear line (issue 17 item 10)."""

from __future__ import annotations

import socket
from pathlib import Path

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
