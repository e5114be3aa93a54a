"""The address guard for hosts users type in, through real DNS answers (the loopback DNS server):
every special-purpose range is refused, a public answer is accepted, one internal address among
public ones is enough to refuse."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from patchbay.config import Settings
from patchbay.kit.dns import (
    REFUSED_NETWORKS,
    HostNotAllowed,
    ensure_public_host,
    is_internal_address,
    make_resolver,
    refused_range,
    resolve_addresses,
)
from tests.support.dns_server import DNSTestServer

INTERNAL = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.0.0.1",  # RFC 1918
    "172.16.5.4",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT 100.64.0.0/10
    "100.127.255.254",
    "169.254.1.1",  # link-local
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",  # "this network" 0.0.0.0/8
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved 240/4
    "255.255.255.255",
    "192.0.0.1",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "::ffff:10.0.0.1",  # IPv4-mapped
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::a00:1",  # IPv4-compatible (deprecated)
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "64:ff9b:1::7f00:1",
    "2001::1",  # Teredo
    "fc00::1",  # unique local fc00::/7
    "fd12:3456::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",  # link-local
    "fec0::1",  # site-local (deprecated)
    "ff02::1",  # multicast
    "ff0e::1",
    "2001:db8::1",  # documentation
    "100::1",  # discard-only
    # Ranges Python's is_global lets through or that the registries added lately: each must stay refused.
    "100.100.100.200",  # CGNAT, Alibaba Cloud's metadata
    "192.0.0.9",  # PCP anycast (IETF protocol assignments, "globally reachable")
    "192.0.0.10",  # TURN anycast
    "192.31.196.1",  # AS112-v4
    "192.52.193.1",  # AMT
    "192.88.99.1",  # deprecated 6to4 relay anycast
    "192.175.48.1",  # direct delegation AS112
    "198.19.255.255",  # benchmarking, last address
    "::ffff:8.8.8.8",  # IPv4-mapped, even around a public address
    "::808:808",  # IPv4-compatible around 8.8.8.8
    "64:ff9b::808:808",  # NAT64 around 8.8.8.8
    "64:ff9b:1:ffff::1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (RFC 4380's example)
    "2001:2::1",  # benchmarking
    "2001:20::1",  # ORCHIDv2
    "2620:4f:8000::1",  # direct delegation AS112
    "3fff::1",  # documentation (RFC 9637)
    "5f00::1",  # SRv6 SIDs
    "100:0:0:1::1",  # dummy prefix
    "4000::1",  # outside global unicast 2000::/3
    "2002:6440:1::1",  # 6to4 around 100.64.0.1 (CGNAT)
    "2002:c000:201::1",  # 6to4 around 192.0.2.1 (documentation)
    "2002:c058:6301::1",  # 6to4 around the 6to4 relay anycast 192.88.99.1
]
PUBLIC = [
    "52.1.2.3",
    "8.8.8.8",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.1",  # just above
    "2606:4700::1111",
    "2a00:1450:4001::1",
    "2002:808:808::1",  # 6to4 around 8.8.8.8
]


def label(address: str) -> str:
    return address.replace(":", "-").replace(".", "-").strip("-") or "zero"


@pytest.fixture(scope="module")
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


def guard_settings(zone: DNSTestServer, **values: Any) -> Settings:
    return Settings(_env_file=None, dns_nameservers=zone.address, **values)  # type: ignore[call-arg]


def serve(zone: DNSTestServer, name: str, *addresses: str) -> None:
    for rtype, version in (("A", 4), ("AAAA", 6)):
        zone.replace(name, rtype, [a for a in addresses if ipaddress.ip_address(a).version == version])


@pytest.mark.parametrize("address", INTERNAL)
async def test_a_name_resolving_to_an_internal_address_is_refused(zone: DNSTestServer, address: str) -> None:
    name = f"{label(address)}.internal.test"
    serve(zone, name, address)
    assert is_internal_address(address)
    answer = await resolve_addresses(guard_settings(zone), name)
    assert [ipaddress.ip_address(a) for a in answer] == [ipaddress.ip_address(address)]
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), name)
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), address)  # the literal too


def edges() -> list[str]:
    """The first and last address of every range of the guard's table."""
    found: list[str] = []
    for entry in REFUSED_NETWORKS:
        for ip in (entry.network.network_address, entry.network.broadcast_address):
            if str(ip) not in found:
                found.append(str(ip))
    return found


@pytest.mark.parametrize("address", edges())
async def test_every_range_of_the_table_is_refused_at_both_ends(zone: DNSTestServer, address: str) -> None:
    name = f"{label(address)}.edge.test"
    serve(zone, name, address)
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), name)


@pytest.mark.parametrize(
    "entry", [e for e in REFUSED_NETWORKS if e.network.version == 4], ids=lambda e: str(e.network)
)
async def test_6to4_around_every_refused_ipv4_range_is_refused(zone: DNSTestServer, entry: Any) -> None:
    inner = int(entry.network.network_address)
    wrapped = ipaddress.IPv6Address((0x2002 << 112) | (inner << 80) | 1)
    assert wrapped.sixtofour == entry.network.network_address
    name = f"{label(str(wrapped))}.sixtofour.test"
    serve(zone, name, str(wrapped))
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), name)


def test_the_table_covers_what_python_calls_non_global() -> None:
    """A cross-check, not the rule: every sampled address the standard library does not call global
    (one in each IPv4 /16 and IPv6 /16, and in each /32 of 2001::/16) is refused by the table too.
    6to4 is left out: the table judges it by the IPv4 address it carries."""
    samples = [ipaddress.IPv4Address((high << 16) | 1) for high in range(1 << 16)]
    samples += [ipaddress.IPv6Address((high << 112) | 1) for high in range(1 << 16)]
    samples += [ipaddress.IPv6Address((0x2001 << 112) | (low << 96) | 1) for low in range(1 << 16)]
    missed = [
        str(ip)
        for ip in samples
        if not ip.is_global and ip not in ipaddress.ip_network("2002::/16") and not is_internal_address(str(ip))
    ]
    assert missed == []


def test_refused_range_names_the_first_range_of_the_table_holding_an_address() -> None:
    """The integer bounds the check runs on agree with `ipaddress` at every range's ends and just
    outside them: same range (the first in the table's order, whose name the error shows) or none."""
    probes: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for entry in REFUSED_NETWORKS:
        first, last = int(entry.network.network_address), int(entry.network.broadcast_address)
        top = 2**32 - 1 if entry.network.version == 4 else 2**128 - 1
        probes += [ipaddress.ip_address(v) for v in (first - 1, first, last, last + 1) if 0 <= v <= top]
    for ip in probes:
        expected = next(
            (e for e in REFUSED_NETWORKS if e.network.version == ip.version and ip in e.network), None
        )
        assert refused_range(ip) is expected, ip
    assert refused_range(ipaddress.ip_address("8.8.4.4")) is None
    assert refused_range(ipaddress.ip_address("2606:4700::1111")) is None


def test_lookups_are_bounded_by_the_http_timeout(zone: DNSTestServer) -> None:
    assert make_resolver(guard_settings(zone, http_timeout=1.5)).lifetime == 1.5
    assert make_resolver(guard_settings(zone, http_timeout=1.5), lifetime=0.5).lifetime == 0.5


@pytest.mark.parametrize("address", PUBLIC)
async def test_a_public_answer_is_accepted(zone: DNSTestServer, address: str) -> None:
    name = f"{label(address)}.public.test"
    serve(zone, name, address)
    assert not is_internal_address(address)
    assert await ensure_public_host(guard_settings(zone), name) == [address]


async def test_one_internal_address_among_public_ones_refuses_the_name(zone: DNSTestServer) -> None:
    serve(zone, "mixed.example.test", "52.1.2.3", "8.8.4.4")
    assert await ensure_public_host(guard_settings(zone), "mixed.example.test") == ["52.1.2.3", "8.8.4.4"]
    serve(zone, "mixed.example.test", "52.1.2.3", "fd00::5")
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), "mixed.example.test")
    serve(zone, "mixed.example.test", "10.1.1.1", "52.1.2.3")
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), "mixed.example.test")


async def test_a_name_without_addresses_is_refused(zone: DNSTestServer) -> None:
    zone.replace("empty.example.test", "TXT", ["no addresses here"])
    for name in ("empty.example.test", "missing.example.test", "bad..name", ""):
        with pytest.raises(HostNotAllowed):
            await ensure_public_host(guard_settings(zone), name)


async def test_allowed_networks_open_only_what_they_name(zone: DNSTestServer) -> None:
    settings = guard_settings(zone, user_host_allowed_networks="10.1.0.0/16, 169.254.0.0/16,fd00::/8")
    serve(zone, "inside.corp.test", "10.1.2.3")
    assert await ensure_public_host(settings, "inside.corp.test") == ["10.1.2.3"]
    serve(zone, "inside6.corp.test", "fd00::7")
    assert await ensure_public_host(settings, "inside6.corp.test") == ["fd00::7"]
    for address in ("10.2.0.1", "127.0.0.1", "169.254.169.254", "fd00:ec2::254", "2002:a02:1::1"):
        serve(zone, "outside.corp.test", address)
        with pytest.raises(HostNotAllowed):
            await ensure_public_host(settings, "outside.corp.test")
    serve(zone, "inside-6to4.corp.test", "2002:a01:203::1")  # 6to4 around the allowed 10.1.2.3
    assert await ensure_public_host(settings, "inside-6to4.corp.test") == ["2002:a01:203::1"]
    # Without the setting the same name is refused.
    with pytest.raises(HostNotAllowed):
        await ensure_public_host(guard_settings(zone), "inside.corp.test")


def test_what_is_not_an_address_is_internal() -> None:
    for text in ("not-an-ip", "", "999.1.1.1", "10.0.0.1/8"):
        assert is_internal_address(text)


def test_allowed_networks_must_be_networks() -> None:
    with pytest.raises(ValidationError, match="not a network in CIDR form"):
        Settings(_env_file=None, user_host_allowed_networks="10.0.0.0/8,intranet")  # type: ignore[call-arg]
    assert Settings(_env_file=None).user_host_networks() == []  # type: ignore[call-arg]
