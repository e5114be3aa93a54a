"""The body cap (kit/body_limit.py): 413 in the envelope before authentication reads the body, for a
declared length at once and for a chunked upload as soon as the cap is passed — the latter on a real
`patchbay serve`, over a raw socket that never finishes its upload."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.fernet import Fernet

from patchbay.app import create_app
from patchbay.kit.body_limit import BodyLimit, BodyLimitMiddleware
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import free_port
from tests.support.factory import Tenant

CAP = 64 * 1024
PATCHBAY = str(Path(sys.executable).with_name("patchbay"))


def assert_413(status: int, body: bytes) -> None:
    assert status == 413
    assert orjson.loads(body) == {
        "type": "invalid_request",
        "code": "request_too_large",
        "detail": f"Request body is larger than the limit of {CAP} bytes.",
        "attr": None,
    }


@pytest.fixture
async def capped_client(make_settings: Any) -> Any:
    runtime = build_runtime(make_settings(max_body_bytes=CAP))
    transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await runtime.close()


async def test_a_body_over_the_cap_is_413_before_authentication(capped_client: httpx.AsyncClient) -> None:
    response = await capped_client.post(
        "/api/projects/1/integrations/", content=b"x" * (CAP + 1), headers={"content-type": "application/json"}
    )
    assert_413(response.status_code, response.content)
    assert response.headers["x-request-id"]


async def test_a_body_at_the_cap_reaches_authentication(capped_client: httpx.AsyncClient) -> None:
    body = orjson.dumps({"kind": "twilio", "pad": "x" * (CAP - 40)})
    assert len(body) <= CAP
    response = await capped_client.post(
        "/api/projects/1/integrations/", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


async def test_a_streamed_body_is_counted_as_it_arrives(capped_client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> Any:
        nonlocal sent
        for _ in range(64):
            sent += 8192
            yield b"x" * 8192

    response = await capped_client.post("/api/projects/1/integrations/", content=chunks())
    assert_413(response.status_code, response.content)
    assert sent <= CAP + 8192  # the rest of the 512 KiB was never pulled


async def test_the_limit_holds_for_a_valid_key_too(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        f"{tenant.base}/integrations/",
        content=b'{"kind": "twilio", "config": {"pad": "' + b"x" * 1048576 + b'"}}',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


async def test_a_path_pattern_gets_its_own_limit() -> None:
    seen: list[int] = []

    async def echo_length(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(len(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = BodyLimitMiddleware(
        echo_length, max_bytes=100, overrides=[BodyLimit(r"/api/projects/[^/]+/integrations/\d+/proxy/", 1000)]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        proxied = await client.post("/api/projects/1/integrations/7/proxy/chat.postMessage", content=b"x" * 900)
        elsewhere = await client.post("/api/projects/1/integrations/", content=b"x" * 900)
        over = await client.post("/api/projects/1/integrations/7/proxy/x", content=b"x" * 1001)
    assert (proxied.status_code, elsewhere.status_code, over.status_code) == (200, 413, 413)
    assert seen == [900]
    assert elsewhere.json()["detail"] == "Request body is larger than the limit of 100 bytes."
    assert over.json()["detail"] == "Request body is larger than the limit of 1000 bytes."


# --- a real server -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("body-limit")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    env.update(
        {
            "PATCHBAY_DATABASE_URL": f"sqlite:///{tmp / 'limit.db'}",
            "PATCHBAY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PATCHBAY_MAX_BODY_BYTES": str(CAP),
            "PATCHBAY_RATE_LIMIT_ANONYMOUS": "off",
            "PATCHBAY_LOG_LEVEL": "WARNING",
        }
    )
    proc = subprocess.Popen(
        [PATCHBAY, "serve", "--port", str(port), "--no-refresher"],
        env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "patchbay serve exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "patchbay serve did not start"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the response"
        body += chunk
    return int(lines[0].split()[1]), body[:length]


def test_a_declared_length_over_the_cap_is_answered_without_sending_the_body(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            b"POST /api/projects/1/integrations/ HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
        )
        assert_413(*read_response(sock))


def test_a_chunked_upload_is_cut_at_the_cap_while_it_is_still_sending(server: int) -> None:
    """The client sends a little more than the cap and then waits, its upload unfinished: the 413
    can only come from counting the chunks as they arrive."""
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            b"POST /api/projects/1/integrations/ HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 4096
        for _ in range(CAP // len(chunk) + 2):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        assert_413(*read_response(sock))


def test_a_chunked_upload_under_the_cap_is_read_and_judged(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            b"POST /api/projects/1/integrations/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        body = b'{"kind": "twilio", "personal_api_key": "phx_unknown"}'
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        status, answer = read_response(sock)
    assert status == 401
    assert orjson.loads(answer)["code"] == "authentication_failed"
