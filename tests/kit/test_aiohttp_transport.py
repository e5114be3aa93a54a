"""The shared client's transport (aiohttp underneath httpx): what goes on the wire is what httpx
built, the answer comes back as sent, connections are reused only when safe, and aiohttp's failures
arrive as httpx's. The provider here is a raw TCP server that records every byte it is sent."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from patchbay.kit.aiohttp_transport import AiohttpTransport
from patchbay.kit.http import SharedClient, outbound_client

Reply = Callable[[bytes], bytes | None]  # raw request -> raw answer (None: hang up at once)


@dataclass
class RawServer:
    """Answers each request on a connection with `reply`; keeps the raw requests and counts
    connections."""

    reply: Reply
    hang_up_after_reply: bool = False
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await _read_body(reader, head)
                self.requests.append(head + body)
                answer = self.reply(head + body)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if self.hang_up_after_reply:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    lines = head.decode("latin-1").lower().split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.startswith("content-length:")), 0)
    if any(line.startswith("transfer-encoding:") for line in lines):
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.strip(), 16)
            chunk = await reader.readexactly(size + 2)
            body += size_line + chunk
            if size == 0:
                return body
    return await reader.readexactly(length)


def _ok(body: bytes = b"hello", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with outbound_client(keep_cookies=False, transport=AiohttpTransport()) as shared:
        yield shared


def _header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return sorted(line.split(":", 1)[0].lower() for line in head)


async def test_the_wire_carries_httpx_headers_only_and_the_path_as_encoded(client: httpx.AsyncClient) -> None:
    server = await RawServer(lambda raw: _ok()).start()
    try:
        request = client.build_request(
            "GET", server.url + "/a%2Fb/%7Euser/..%2f?q=%20x&q=y", headers={"X-One": "1"}
        )
        response = await client.send(request)
        assert response.status_code == 200 and response.text == "hello"
        assert server.requests[0].startswith(b"GET /a%2Fb/%7Euser/..%2f?q=%20x&q=y HTTP/1.1\r\n")
        assert _header_names(server.requests[0]) == sorted(k.lower() for k in request.headers.keys())
        assert b"User-Agent: Patchbay/" in server.requests[0]
    finally:
        await server.stop()


async def test_aiohttp_adds_no_header_of_its_own() -> None:
    server = await RawServer(lambda raw: _ok()).start()
    transport = AiohttpTransport()
    try:
        request = httpx.Request("POST", server.url + "/x", headers={"Host": "provider.test"}, content=b"{}")
        answer = await transport.handle_async_request(request)
        await answer.aread()
        # no Accept, Accept-Encoding, User-Agent or Content-Type appear that httpx did not put there
        assert _header_names(server.requests[0]) == ["content-length", "host"]
        assert server.requests[0].endswith(b"\r\n\r\n{}")
    finally:
        await transport.aclose()
        await server.stop()


async def test_a_streamed_body_goes_chunked_and_a_sized_one_with_its_length(
    client: httpx.AsyncClient,
) -> None:
    server = await RawServer(lambda raw: _ok()).start()

    async def parts() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b"second"

    try:
        await client.post(server.url + "/stream", content=parts())
        await client.put(server.url + "/sized", content=b"x" * 10)
        await client.get(server.url + "/empty")
        streamed, sized, empty = server.requests
        assert b"transfer-encoding: chunked" in streamed.lower() and b"content-length" not in streamed.lower()
        assert streamed.endswith(b"6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n")
        assert b"Content-Length: 10\r\n" in sized and sized.endswith(b"x" * 10)
        assert b"content-length" not in empty.lower()  # as httpx sends an empty GET
    finally:
        await server.stop()


async def test_the_answer_comes_back_as_sent(client: httpx.AsyncClient) -> None:
    packed = gzip.compress(b'{"ok": true}')
    server = await RawServer(
        lambda raw: _ok(packed, b"Content-Encoding: gzip\r\nX-Twice: 1\r\nX-Twice: 2\r\n")
    ).start()
    try:
        response = await client.send(client.build_request("GET", server.url + "/"), stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        assert raw == packed  # not decompressed: the proxy passes the bytes on
        assert response.headers.get_list("x-twice") == ["1", "2"]
        assert response.headers["content-encoding"] == "gzip"
    finally:
        await server.stop()


async def test_a_chunked_or_empty_answer_arrives_whole(client: httpx.AsyncClient) -> None:
    chunked = await RawServer(
        lambda raw: (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
    ).start()
    empty = await RawServer(lambda raw: b"HTTP/1.1 204 No Content\r\n\r\n").start()
    try:
        response = await client.send(client.build_request("GET", chunked.url + "/"), stream=True)
        assert b"".join([part async for part in response.aiter_raw()]) == b"hello world"
        assert response.headers["transfer-encoding"] == "chunked"  # the proxy drops hop-by-hop ones
        await response.aclose()
        for _ in range(2):  # the same connection serves again after a body-less answer
            nothing = await client.delete(empty.url + "/x")
            assert nothing.status_code == 204 and nothing.content == b""
        assert empty.connections == 1
    finally:
        await chunked.stop()
        await empty.stop()


async def test_no_redirect_is_followed_and_no_cookie_is_sent_back(client: httpx.AsyncClient) -> None:
    server = await RawServer(
        lambda raw: (
            b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nSet-Cookie: sid=tenant-a\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
    ).start()
    try:
        first = await client.get(server.url + "/a")
        await client.get(server.url + "/b")
        assert first.status_code == 302 and len(server.requests) == 2
        assert b"/elsewhere" not in server.requests[1] and b"sid=" not in server.requests[1]
    finally:
        await server.stop()


async def test_a_connection_is_reused_only_after_a_whole_answer(client: httpx.AsyncClient) -> None:
    # Larger than aiohttp buffers ahead (an answer received whole frees its connection at once).
    server = await RawServer(lambda raw: _ok(b"y" * 8_000_000)).start()
    try:
        await client.get(server.url + "/1")
        await client.get(server.url + "/2")
        assert server.connections == 1
        response = await client.send(client.build_request("GET", server.url + "/3"), stream=True)
        async for _ in response.aiter_raw():
            break  # left mid-body: that connection must not carry the next call
        await response.aclose()
        again = await client.get(server.url + "/4")
        assert again.content == b"y" * 8_000_000 and server.connections == 2
    finally:
        await server.stop()


async def test_failures_arrive_as_httpx_errors(client: httpx.AsyncClient) -> None:
    closed = await RawServer(lambda raw: _ok()).start()
    url = closed.url
    await closed.stop()
    with pytest.raises(httpx.ConnectError):
        await client.get(url + "/")

    garbage = await RawServer(lambda raw: b"this is not http\r\n\r\n").start()
    cut = await RawServer(  # promises 100 bytes, sends 5 and hangs up
        lambda raw: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", hang_up_after_reply=True
    ).start()
    hang_up = await RawServer(lambda raw: None).start()
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(garbage.url + "/")
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(hang_up.url + "/")
        response = await client.send(client.build_request("GET", cut.url + "/"), stream=True)
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()
        await response.aclose()
    finally:
        for server in (garbage, cut, hang_up):
            await server.stop()


async def test_a_silent_provider_is_a_read_timeout(client: httpx.AsyncClient) -> None:
    silent = await RawServer(lambda raw: b"").start()  # reads the request, never answers
    try:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(silent.url + "/", timeout=httpx.Timeout(5.0, read=0.2))
    finally:
        await silent.stop()


async def test_the_shared_client_sends_through_aiohttp_and_keeps_no_cookie() -> None:
    server = await RawServer(lambda raw: _ok(b"streamed", b"Set-Cookie: sid=tenant-a; Path=/\r\n")).start()
    shared = SharedClient()
    try:
        assert isinstance(shared.get()._transport, AiohttpTransport)
        for path in ("/a", "/b"):
            request = shared.get().build_request("GET", server.url + path, timeout=3.0)
            response = await shared.send(request)
            assert response.request is request and response.status_code == 200
            assert b"".join([part async for part in response.aiter_raw()]) == b"streamed"
            await response.aclose()
        assert b"User-Agent: Patchbay/" in server.requests[1]  # the client's headers, as built
        assert b"sid=" not in server.requests[1].lower()  # tenant A's cookie never goes out again
        assert len(shared.get().cookies) == 0
    finally:
        await shared.aclose()
        await server.stop()
