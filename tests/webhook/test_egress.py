"""Webhook egress through kit.http's GuardedClient: every delivery checks the URL's host again and
sends to the checked address (TLS still names the host); a host that now resolves internally is
refused before any connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from patchbay.config import Settings
from patchbay.kit.http import GuardedClient
from patchbay.webhook import egress
from tests.kit.test_http import CHECKED, NAME, REBOUND, certificate, listener_pair
from tests.support.dns_server import DNSTestServer


@pytest.fixture
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        server.add(NAME, "A", CHECKED)
        yield server


def guarded_settings(zone: DNSTestServer) -> Settings:
    # The checked loopback address stands in for a public one; the rebound one stays internal.
    return Settings(  # type: ignore[call-arg]
        _env_file=None, dns_nameservers=zone.address, user_host_allowed_networks=f"{CHECKED}/32"
    )


async def test_every_post_is_checked_and_pinned(zone: DNSTestServer, tmp_path: Path) -> None:
    files, client_tls = certificate(tmp_path)
    checked, rebound = listener_pair(files)
    settings = guarded_settings(zone)
    client = GuardedClient(settings, timeout=3.0, verify=client_tls)
    url = f"https://{NAME}:{checked.port}/hooks"
    try:
        await egress.check(settings, url)
        assert await egress.post(client, url, {"webhook-id": "evt_1"}, b"{}") == 200
        assert checked.server_names == [NAME] and checked.hosts == [f"{NAME}:{checked.port}"]
        zone.replace(NAME, "A", [REBOUND])  # the name now points somewhere internal
        with pytest.raises(egress.URLRefused, match="must resolve to public internet addresses"):
            await egress.post(client, url, {"webhook-id": "evt_2"}, b"{}")
        with pytest.raises(egress.URLRefused):
            await egress.check(settings, url)
        assert rebound.hosts == [] and len(checked.hosts) == 1
    finally:
        await client.aclose()
        checked.stop()
        rebound.stop()


async def test_the_delivery_client_follows_the_settings(zone: DNSTestServer) -> None:
    settings = guarded_settings(zone).model_copy(update={"webhook_timeout": 2.5})  # not the default
    client = egress.delivery_client(settings)
    open_client = egress.delivery_client(settings.model_copy(update={"webhook_allow_private": True}))
    try:
        assert client.http.timeout.read == settings.webhook_timeout and not client.allow_internal
        assert open_client.allow_internal
        with pytest.raises(egress.URLRefused, match="must use https"):
            await egress.post(client, f"http://{NAME}/hooks", {}, b"{}")
    finally:
        await client.aclose()
        await open_client.aclose()


class BigAnswer(threading.Thread):
    """A receiver whose answer is far larger than anything a delivery reads: it counts the bytes it
    managed to send before the client hung up."""

    def __init__(self, size: int) -> None:
        super().__init__(daemon=True)
        self.size, self.sent = size, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        conn, _ = self.sock.accept()
        with conn, self.sock:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.size)
            chunk = b"x" * 65536
            try:
                while self.sent < self.size:
                    self.sent += conn.send(chunk[: self.size - self.sent])
            except OSError:
                pass  # the client closed the connection: what it needed was read


async def test_an_answer_is_read_only_up_to_its_bound() -> None:
    receiver = BigAnswer(64 * 1024 * 1024)
    receiver.start()
    settings = Settings(_env_file=None, webhook_allow_private=True)  # type: ignore[call-arg]
    client = GuardedClient(settings, timeout=10.0, allow_internal=True)
    try:
        status = await egress.post(client, f"http://127.0.0.1:{receiver.port}/hooks", {}, b"{}")
    finally:
        await client.aclose()
    receiver.join(timeout=10)
    assert status == 200
    # Dropped after MAX_ANSWER_BYTES: the receiver could not send more than that and what the
    # sockets' buffers hold, far from the whole answer.
    assert egress.MAX_ANSWER_BYTES <= receiver.sent < receiver.size // 2


async def test_deliveries_check_certificates_by_default(zone: DNSTestServer, tmp_path: Path) -> None:
    files, _ = certificate(tmp_path)
    checked, rebound = listener_pair(files)
    client = egress.delivery_client(guarded_settings(zone))
    try:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await egress.post(client, f"https://{NAME}:{checked.port}/hooks", {}, b"{}")
    finally:
        await client.aclose()
        checked.stop()
        rebound.stop()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://hooks.example.com:0/in", "Enter a valid URL."),
        ("https://hooks.example.com:99999/in", "Enter a valid URL."),
        ("https://name@hooks.example.com/in", "Webhook URLs may not contain credentials."),
        ("https://:secret@hooks.example.com/in", "Webhook URLs may not contain credentials."),
        ("http://hooks.example.com/in", "Webhook URLs must use https."),
        ("https:///in", "Enter a valid URL."),
    ],
)
def test_urls_refused_before_any_lookup(url: str, message: str) -> None:
    with pytest.raises(egress.URLRefused) as refused:
        egress.normalized(Settings(_env_file=None), url)  # type: ignore[call-arg]
    assert str(refused.value) == message


def test_the_longest_url_allowed() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    base = "https://hooks.example.com/"
    longest = base + "a" * (egress.MAX_URL_LENGTH - len(base))
    assert egress.normalized(settings, longest) == longest
    with pytest.raises(egress.URLRefused, match="no more than"):
        egress.normalized(settings, longest + "a")
