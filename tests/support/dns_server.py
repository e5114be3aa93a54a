"""A real authoritative DNS server on loopback (UDP and TCP, dnslib wire format) for tests.

Zones are plain records added by tests or written by the Domain Connect provider simulator. Faults
make names time out (no answer at all) or answer SERVFAIL until cleared.
"""

from __future__ import annotations

import ipaddress
import socket
import socketserver
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from dnslib import AAAA, CNAME, MX, NS, QTYPE, RCODE, RR, TXT, A, DNSRecord

TIMEOUT = "timeout"
SERVFAIL = "servfail"


@dataclass(frozen=True)
class Record:
    name: str
    rtype: str
    value: str
    ttl: int = 300


def _norm(name: str) -> str:
    return name.rstrip(".").lower()


def _txt_strings(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


def _rdata(record: Record) -> object:
    if record.rtype == "TXT":
        return TXT(_txt_strings(record.value))
    if record.rtype == "CNAME":
        return CNAME(record.value)
    if record.rtype == "NS":
        return NS(record.value)
    if record.rtype == "A":
        return A(record.value)
    if record.rtype == "AAAA":
        return AAAA(ipaddress.IPv6Address(record.value).exploded)  # dnslib reads only the long form
    if record.rtype == "MX":
        priority, _, host = record.value.partition(" ")
        return MX(host, int(priority))
    raise ValueError(f"unsupported record type {record.rtype}")


class DNSTestServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._records: list[Record] = []
        self._faults: dict[str, str] = {}
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self.queries: list[tuple[str, str]] = []

    # --- zone data ------------------------------------------------------------------------------
    def add(self, name: str, rtype: str, value: str, ttl: int = 300) -> None:
        with self._lock:
            self._records.append(Record(_norm(name), rtype.upper(), value, ttl))

    def replace(self, name: str, rtype: str, values: Iterable[str], ttl: int = 300) -> None:
        with self._lock:
            self._records = [
                r for r in self._records if not (r.name == _norm(name) and r.rtype == rtype.upper())
            ]
            self._records += [Record(_norm(name), rtype.upper(), v, ttl) for v in values]

    def remove(self, name: str, rtype: str | None = None) -> None:
        with self._lock:
            self._records = [
                r
                for r in self._records
                if not (r.name == _norm(name) and (rtype is None or r.rtype == rtype.upper()))
            ]

    def records(self, name: str, rtype: str | None = None) -> list[Record]:
        with self._lock:
            return [
                r
                for r in self._records
                if r.name == _norm(name) and (rtype is None or r.rtype == rtype.upper())
            ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._faults.clear()
            self.queries.clear()

    # --- faults ---------------------------------------------------------------------------------
    def fail(self, name: str, mode: str) -> None:
        """Queries for `name` (and names under it) time out or answer SERVFAIL until cleared."""
        if mode not in (TIMEOUT, SERVFAIL):
            raise ValueError(mode)
        with self._lock:
            self._faults[_norm(name)] = mode

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- answering ------------------------------------------------------------------------------
    def _fault_for(self, name: str) -> str | None:
        for suffix, mode in self._faults.items():
            if name == suffix or name.endswith("." + suffix):
                return mode
        return None

    def answer(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        reply = request.reply()  # aa=1, ra=1
        qname = _norm(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((qname, qtype))
            fault = self._fault_for(qname)
            records = list(self._records)
        if fault == TIMEOUT:
            return None
        if fault == SERVFAIL:
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()
        name = qname
        for _ in range(8):  # follow CNAME chains inside our zones
            found = [r for r in records if r.name == name and r.rtype == qtype]
            cname = [r for r in records if r.name == name and r.rtype == "CNAME"]
            if found:
                for r in found:
                    reply.add_answer(RR(r.name, QTYPE.reverse[r.rtype], rdata=_rdata(r), ttl=r.ttl))
                break
            if cname and qtype != "CNAME":
                reply.add_answer(RR(name, QTYPE.CNAME, rdata=_rdata(cname[0]), ttl=cname[0].ttl))
                name = _norm(cname[0].value)
                continue
            if not reply.rr and not any(r.name == name or r.name.endswith("." + name) for r in records):
                reply.header.rcode = RCODE.NXDOMAIN
            break
        return reply.pack()

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """The `ip:port` form PATCHBAY_DNS_NAMESERVERS takes."""
        return f"{self.host}:{self.port}"

    def start(self) -> DNSTestServer:
        owner = self

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                response = owner.answer(data)
                if response is None:
                    return
                if len(response) > 1232:  # too big for one datagram: the client retries over TCP
                    truncated = DNSRecord.parse(response)
                    truncated.rr = []
                    truncated.header.tc = 1
                    response = truncated.pack()
                sock.sendto(response, self.client_address)

        class TCPHandler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                header = sock.recv(2)
                if len(header) < 2:
                    return
                (length,) = struct.unpack("!H", header)
                data = b""
                while len(data) < length:
                    chunk = sock.recv(length - len(data))
                    if not chunk:
                        return
                    data += chunk
                response = owner.answer(data)
                if response is not None:
                    sock.sendall(struct.pack("!H", len(response)) + response)

        for _ in range(20):
            udp = socketserver.ThreadingUDPServer((self.host, 0), UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = socketserver.ThreadingTCPServer((self.host, port), TCPHandler, bind_and_activate=False)
                tcp.allow_reuse_address = True
                tcp.server_bind()
                tcp.server_activate()
            except OSError:
                udp.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for the test DNS server")
        self.port = port
        for server in (udp, tcp):
            server.daemon_threads = True
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DNSTestServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
