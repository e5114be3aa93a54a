"""Run the sandbox on loopback, in a thread (tests) or in the foreground (`patchbay sandbox`)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from patchbay.config import kind_env_name
from patchbay.sandbox.app import create_sandbox_app, kind_urls, provider_modules
from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxState


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def sandbox_env(base_url: str) -> dict[str, str]:
    """PATCHBAY_<KIND>_* variables that wire every kind the sandbox knows to it."""
    env: dict[str, str] = {}
    for kind, urls in kind_urls().items():
        if "AUTHORIZE_URL" in urls:  # OAuth kinds only: Twilio and friends take keys from users
            env[kind_env_name(kind, "CLIENT_ID")] = SANDBOX_CLIENT_ID
            env[kind_env_name(kind, "CLIENT_SECRET")] = SANDBOX_CLIENT_SECRET
        for suffix, path in urls.items():
            env[kind_env_name(kind, suffix)] = base_url + path
    for module in provider_modules():
        extra = getattr(module, "extra_env", None)
        if extra is not None:
            env.update(extra(base_url))
    return env


def seed_demo_data(state: SandboxState) -> None:
    """Every simulator's demo data (modules that define `seed_demo`)."""
    for module in provider_modules():
        seed = getattr(module, "seed_demo", None)
        if seed is not None:
            seed(state)


class SandboxServer:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state: SandboxState | None = None, *, demo: bool = False
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.state = state or SandboxState()
        if demo:
            seed_demo_data(self.state)
        self.app = create_sandbox_app(self.state)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        return sandbox_env(self.base_url)

    def start(self) -> SandboxServer:
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="patchbay-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            # Hung answers end within their next 50 ms tick instead of being cancelled mid-request.
            self.state.closing = True
            time.sleep(0.1)
            # Not waiting for clients' idle keep-alive connections: a pooled client that is never
            # closed (a finished test's event loop) would hold the stop for the join's ten seconds.
            self._server.should_exit = True
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve_forever(host: str, port: int) -> None:
    state = SandboxState()
    seed_demo_data(state)
    # No access log: uvicorn writes it to stdout, which carries the settings (`patchbay sandbox > .env`).
    uvicorn.run(
        create_sandbox_app(state), host=host, port=port, log_level="info", lifespan="off", access_log=False
    )
