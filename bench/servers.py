"""Starting and stopping the servers under test, and sampling their workers' memory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process group started by the runner (uvicorn supervisor + its workers)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, health_path: str = "/_health", timeout: float = 120.0) -> Server:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, cwd=self.workdir, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if (
                    httpx.get(self.base_url + health_path, timeout=2).status_code == 200
                    and len(self.workers()) >= 1
                ):
                    # Let every worker finish importing before load starts.
                    time.sleep(1.0)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy in {timeout:.0f}s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def workers(self) -> list[psutil.Process]:
        """The uvicorn worker processes (children spawned by the supervisor)."""
        if self.proc is None:
            return []
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = []
        for child in children:
            try:
                cmdline = " ".join(child.cmdline())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if "resource_tracker" in cmdline:
                continue
            if "multiprocessing" in cmdline or "spawn_main" in cmdline:
                found.append(child)
        return found

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # Workers are in the same (new) session and process group: make sure none outlives us.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def patchbay_command(port: int, workers: int) -> list[str]:
    exe = Path(sys.executable).with_name("patchbay")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "patchbay.cli.main"]
    return [
        *base,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-refresher",
    ]


def baseline_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "bench.baseline:app", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


class MemorySampler:
    """Peak RSS per worker process, sampled every `interval` seconds in a thread."""

    def __init__(self, server: Server, interval: float = 0.1) -> None:
        self.server = server
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        workers = self.server.workers()
        while not self._stop.is_set():
            for worker in workers:
                try:
                    rss = worker.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0), rss)
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float:
        return max(self.peaks.values(), default=0) / (1024 * 1024)

    @property
    def per_worker_mb(self) -> list[float]:
        return [round(v / (1024 * 1024), 1) for _, v in sorted(self.peaks.items())]


class CpuMeter:
    """CPU seconds spent by the server's workers and by the PostgreSQL backends serving `database`
    between start() and stop(): a cost per request that other load on the machine does not skew."""

    def __init__(self, server: Server, database: str) -> None:
        self.server = server
        self.database = database
        self.start_app: dict[int, float] = {}
        self.start_db: dict[int, float] = {}
        self.app_s = 0.0
        self.db_s = 0.0

    def _backends(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if cmdline.startswith("postgres: ") and f" {self.database} " in f"{cmdline} ":
                found.append(proc)
        return found

    @staticmethod
    def _times(procs: list[psutil.Process]) -> dict[int, float]:
        out = {}
        for proc in procs:
            try:
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                continue
        return out

    def start(self) -> None:
        self.start_app = self._times(self.server.workers())
        self.start_db = self._times(self._backends())

    def stop(self) -> None:
        end_app = self._times(self.server.workers())
        end_db = self._times(self._backends())
        self.app_s = sum(v - self.start_app.get(pid, 0.0) for pid, v in end_app.items())
        self.db_s = sum(v - self.start_db.get(pid, 0.0) for pid, v in end_db.items())


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else None
