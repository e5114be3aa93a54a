"""guarded_client: a host a user typed in is resolved once, checked, and the connection goes to the
checked address — a later DNS answer (rebinding) is never used — while TLS SNI, the certificate's
name check and the Host header keep the name."""

from __future__ import annotations

import asyncio
import datetime
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed
from patchbay.kit.http import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    GuardedClient,
    SharedClient,
    _normal,
    guarded_client,
    outbound_client,
)
from tests.support.dns_server import DNSTestServer

NAME = "workspace.example.test"
CHECKED, REBOUND = "127.0.0.2", "127.0.0.3"


@dataclass
class Listener:
    """A loopback HTTP(S) server that records the Host header and TLS server name it was sent."""

    address: str
    port: int
    tls: tuple[Path, Path] | None = None  # certificate and key files
    hosts: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    def start(self) -> Listener:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.hosts.append(self.headers.get("Host", ""))
                owner.agents.append(self.headers.get("User-Agent", ""))
                body = owner.address.encode()
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", f"http://{REBOUND}:{owner.port}/inside")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.do_GET()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer((self.address, self.port), Handler)
        self.port = self.server.server_address[1]
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)  # type: ignore[assignment,func-returns-value]
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def listener_pair(tls: tuple[Path, Path] | None = None) -> tuple[Listener, Listener]:
    """Two servers on the same port, one on the checked address and one on the rebound one."""
    for _ in range(20):
        first = Listener(CHECKED, 0, tls).start()
        try:
            return first, Listener(REBOUND, first.port, tls).start()
        except OSError:
            first.stop()
    raise RuntimeError("no port free on both loopback addresses")


def certificate(tmp: Path) -> tuple[tuple[Path, Path], ssl.SSLContext]:
    """A self-signed certificate for NAME: (certificate and key files, a client context trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return (cert_file, key_file), ssl.create_default_context(cafile=str(cert_file))


@pytest.fixture
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        server.add(NAME, "A", CHECKED)
        yield server


def settings_for(zone: DNSTestServer) -> Settings:
    # The checked loopback address stands in for a public one; the rebound one stays internal.
    return Settings(  # type: ignore[call-arg]
        _env_file=None, dns_nameservers=zone.address, user_host_allowed_networks=f"{CHECKED}/32"
    )


async def test_the_checked_answer_is_pinned_against_rebinding(zone: DNSTestServer) -> None:
    checked, rebound = listener_pair()
    try:
        async with await guarded_client(settings_for(zone), NAME) as client:
            zone.replace(NAME, "A", [REBOUND])  # the name now points somewhere internal
            for path in ("/first", "/second"):
                response = await client.get(f"http://{NAME}:{checked.port}{path}")
                assert response.status_code == 200 and response.text == CHECKED
        assert checked.hosts == [f"{NAME}:{checked.port}"] * 2
        assert rebound.hosts == []
        assert zone.queries.count((NAME, "A")) == 1, "resolved once, by the guard"
        # A new client checks again and refuses the rebound answer.
        with pytest.raises(HostNotAllowed):
            await guarded_client(settings_for(zone), NAME)
    finally:
        checked.stop()
        rebound.stop()


async def test_a_pinned_client_reaches_no_other_host(zone: DNSTestServer) -> None:
    checked, rebound = listener_pair()
    zone.add("other.example.test", "A", CHECKED)
    try:
        async with await guarded_client(settings_for(zone), NAME) as client:
            for url in (f"http://{REBOUND}:{rebound.port}/", f"http://other.example.test:{checked.port}/"):
                with pytest.raises(httpx.ConnectError, match=f"connects to {NAME} only"):
                    await client.get(url)
        assert checked.hosts == [] and rebound.hosts == []
    finally:
        checked.stop()
        rebound.stop()


async def test_tls_keeps_the_name_for_sni_and_the_certificate(zone: DNSTestServer, tmp_path: Path) -> None:
    files, client_tls = certificate(tmp_path)
    checked, rebound = listener_pair(files)
    try:
        async with await guarded_client(settings_for(zone), NAME, verify=client_tls) as client:
            zone.replace(NAME, "A", [REBOUND])
            response = await client.get(f"https://{NAME}:{checked.port}/secure")
        assert response.status_code == 200 and response.text == CHECKED
        assert checked.server_names == [NAME]
        assert checked.hosts == [f"{NAME}:{checked.port}"]
        assert rebound.server_names == [] and rebound.hosts == []
        # Certificate checks stay on: a client that does not trust the certificate is refused.
        zone.replace(NAME, "A", [CHECKED])
        async with await guarded_client(settings_for(zone), NAME) as strict:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await strict.get(f"https://{NAME}:{checked.port}/secure")
    finally:
        checked.stop()
        rebound.stop()


async def test_redirects_environment_proxies_and_timeouts(
    zone: DNSTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked, rebound = listener_pair()
    # A proxy from the environment would resolve the name again: it is ignored.
    monkeypatch.setenv("HTTP_PROXY", f"http://{REBOUND}:{rebound.port}")
    monkeypatch.setenv("ALL_PROXY", f"http://{REBOUND}:{rebound.port}")
    try:
        async with await guarded_client(settings_for(zone), NAME) as client:
            assert client.timeout == DEFAULT_TIMEOUT and not client.follow_redirects
            moved = await client.get(f"http://{NAME}:{checked.port}/redirect")
            assert moved.status_code == 302, "a redirect is handed back, never followed"
            # The name as users spell it: any case, a trailing dot.
            spelled = await client.get(f"http://{NAME.upper()}.:{checked.port}/spelled")
            assert spelled.status_code == 200 and spelled.text == CHECKED
        async with await guarded_client(
            settings_for(zone), NAME, timeout=1.5, headers={"X-A": "b"}
        ) as custom:
            assert custom.timeout == httpx.Timeout(1.5) and custom.headers["X-A"] == "b"
        assert len(checked.hosts) == 2 and rebound.hosts == []
        assert checked.agents == [USER_AGENT, USER_AGENT]
    finally:
        checked.stop()
        rebound.stop()


async def test_one_client_admits_hosts_one_by_one(zone: DNSTestServer) -> None:
    """The webhook delivery loop's client: hosts admitted one by one, each checked again whenever it
    is admitted again; a host refused now is no longer reachable through its earlier check."""
    checked, rebound = listener_pair()
    zone.add("second.example.test", "A", CHECKED)
    guarded = GuardedClient(settings_for(zone))
    try:
        with pytest.raises(httpx.ConnectError, match="connects to no host only"):
            await guarded.http.get(f"http://{NAME}:{checked.port}/")
        await guarded.admit(NAME)
        await guarded.admit("second.example.test")
        for host in (NAME, "second.example.test"):
            response = await guarded.http.get(f"http://{host}:{checked.port}/")
            assert response.status_code == 200 and response.text == CHECKED
        zone.replace(NAME, "A", [REBOUND])
        with pytest.raises(HostNotAllowed):
            await guarded.admit(NAME)
        with pytest.raises(httpx.ConnectError, match="connects to second.example.test only"):
            await guarded.http.get(f"http://{NAME}:{checked.port}/after")
        assert rebound.hosts == [] and len(checked.hosts) == 2
    finally:
        await guarded.aclose()
        checked.stop()
        rebound.stop()


async def test_allowing_internal_hosts_dials_them_by_name(zone: DNSTestServer) -> None:
    checked, rebound = listener_pair()
    guarded = GuardedClient(settings_for(zone), allow_internal=True)
    try:
        await guarded.admit(REBOUND)  # internal, and admitted only because the operator allows it
        response = await guarded.http.get(f"http://{REBOUND}:{rebound.port}/")
        assert response.status_code == 200 and response.text == REBOUND
        with pytest.raises(httpx.ConnectError, match=f"connects to {REBOUND} only"):
            await guarded.http.get(f"http://{CHECKED}:{checked.port}/")
    finally:
        await guarded.aclose()
        checked.stop()
        rebound.stop()


def test_names_are_compared_as_users_spell_them() -> None:
    assert _normal("[::1]") == "::1"  # an IPv6 literal as it appears in a URL
    assert _normal("API.Example.COM.") == "api.example.com"
    assert _normal("XBOX.") == "xbox"  # only the trailing dot goes


async def test_the_shared_client_is_one_per_event_loop() -> None:
    shared = SharedClient()
    first = shared.get()
    assert shared.get() is first  # its pool is the point: the same client every time
    await first.aclose()
    second = shared.get()
    assert second is not first and not second.is_closed  # a closed one is replaced
    await shared.aclose()
    assert second.is_closed


def test_clients_of_finished_event_loops_are_dropped() -> None:
    shared = SharedClient()

    async def use() -> object:
        return shared.get()

    one, two = asyncio.run(use()), asyncio.run(use())
    assert one is not two  # each loop its own client ...
    assert [held.client for held in shared._clients.values()] == [two]  # ... the finished one's dropped


async def test_an_outbound_client_keeps_a_timeout_and_names_patchbay() -> None:
    """Operator-configured hosts too: never a call without a time limit, never a redirect followed."""
    async with outbound_client() as client:
        assert client.timeout == DEFAULT_TIMEOUT and not client.follow_redirects
        assert client.headers["User-Agent"] == USER_AGENT
    async with outbound_client(timeout=2.0, headers={"X-A": "b"}) as custom:
        assert custom.timeout == httpx.Timeout(2.0) and custom.headers["X-A"] == "b"
        assert custom.headers["User-Agent"] == USER_AGENT


@pytest.mark.parametrize("keep_cookies", [True, False])
async def test_an_outbound_client_keeps_a_providers_cookie_only_when_asked(keep_cookies: bool) -> None:
    answer = httpx.Response(
        200, headers={"Set-Cookie": "session=abc; Path=/"}, request=httpx.Request("GET", "https://api.example.com/")
    )
    async with outbound_client(keep_cookies=keep_cookies) as client:
        client.cookies.extract_cookies(answer)
        assert dict(client.cookies) == ({"session": "abc"} if keep_cookies else {})
