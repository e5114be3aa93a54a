"""DNS resolution through PATCHBAY_DNS_NAMESERVERS, and the address guard for user-typed hosts.

The guard's one table, `REFUSED_NETWORKS`, lists every range a host a user typed in may not
resolve to: the IANA IPv4 and IPv6 Special-Purpose Address Registries (all entries, including
those the registry marks globally reachable: none of them is a place a provider's API lives),
multicast, and everything IPv6 outside the global unicast block 2000::/3. 6to4 (2002::/16) is the
one IPv6 form judged by the IPv4 address it carries; the other forms that carry an IPv4 address
(IPv4-mapped, IPv4-compatible, NAT64, Teredo) are refused whatever they carry.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from patchbay.config import Settings


def make_resolver(settings: Settings, *, lifetime: float | None = None) -> dns.asyncresolver.Resolver:
    """A resolver on PATCHBAY_DNS_NAMESERVERS (or the system's); `lifetime` bounds one lookup,
    PATCHBAY_HTTP_TIMEOUT when not given."""
    servers = settings.nameservers()
    if servers:
        # configure=True would read the system's resolv.conf first: all we use is set below (equivalent).
        resolver = dns.asyncresolver.Resolver(configure=False)  # pragma: no mutate
        resolver.nameservers = [host for host, _ in servers]
        resolver.port = servers[0][1]
        resolver.nameserver_ports = {host: port for host, port in servers}
    else:
        resolver = dns.asyncresolver.Resolver()
    limit = float(settings.http_timeout) if lifetime is None else lifetime
    resolver.lifetime = limit
    resolver.timeout = limit
    return resolver


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RefusedRange:
    network: Network
    name: str  # what the range is, as the registries name it
    source: str  # where it is defined


def _range(cidr: str, name: str, source: str) -> RefusedRange:  # pragma: no mutate block
    return RefusedRange(ipaddress.ip_network(cidr), name, source)


# fmt: off
REFUSED_NETWORKS: tuple[RefusedRange, ...] = (
    # IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), then multicast.
    _range("0.0.0.0/8", "This network", "RFC 791"),
    _range("10.0.0.0/8", "Private-Use", "RFC 1918"),
    _range("100.64.0.0/10", "Shared Address Space (CGNAT)", "RFC 6598"),
    _range("127.0.0.0/8", "Loopback", "RFC 1122"),
    _range("169.254.0.0/16", "Link Local (cloud metadata lives here)", "RFC 3927"),
    _range("172.16.0.0/12", "Private-Use", "RFC 1918"),
    _range("192.0.0.0/24", "IETF Protocol Assignments (DS-Lite, PCP and TURN anycast, NAT64 discovery)", "RFC 6890"),
    _range("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    _range("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    _range("192.52.193.0/24", "AMT", "RFC 7450"),
    _range("192.88.99.0/24", "Deprecated 6to4 Relay Anycast", "RFC 7526"),
    _range("192.168.0.0/16", "Private-Use", "RFC 1918"),
    _range("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    _range("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    _range("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    _range("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    _range("224.0.0.0/4", "Multicast", "RFC 5771"),
    _range("240.0.0.0/4", "Reserved", "RFC 1112"),
    _range("255.255.255.255/32", "Limited Broadcast", "RFC 919"),
    # IPv6 Special-Purpose Address Registry (RFC 6890 and its updates).
    _range("::/128", "Unspecified Address", "RFC 4291"),
    _range("::1/128", "Loopback Address", "RFC 4291"),
    _range("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
    _range("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291"),
    _range("64:ff9b::/96", "IPv4-IPv6 Translation (NAT64)", "RFC 6052"),
    _range("64:ff9b:1::/48", "IPv4-IPv6 Translation (local NAT64)", "RFC 8215"),
    _range("100::/64", "Discard-Only Address Block", "RFC 6666"),
    _range("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    _range("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    _range("2001::/32", "TEREDO", "RFC 4380"),
    _range("2001:2::/48", "Benchmarking", "RFC 5180"),
    _range("2001:db8::/32", "Documentation", "RFC 3849"),
    _range("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    _range("3fff::/20", "Documentation", "RFC 9637"),
    _range("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    _range("fc00::/7", "Unique-Local", "RFC 4193"),
    _range("fe80::/10", "Link-Local Unicast", "RFC 4291"),
    _range("fec0::/10", "Site-Local (deprecated, still routed by some)", "RFC 3879"),
    _range("ff00::/8", "Multicast", "RFC 4291"),
    # Everything outside global unicast 2000::/3 is unassigned or special (IPv6 Address Space).
    _range("::/3", "Not global unicast (reserved, unassigned)", "RFC 4291"),
    _range("4000::/2", "Not global unicast (unassigned, ULA, link-local, multicast)", "RFC 4291"),
    _range("8000::/1", "Not global unicast (unassigned, ULA, link-local, multicast)", "RFC 4291"),
)
# fmt: on
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")  # judged by the IPv4 address it carries (RFC 3056)
# Cloud metadata services: refused even inside PATCHBAY_USER_HOST_ALLOWED_NETWORKS.
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


# Each version's ranges as (first, last, entry) integers, in the table's order: `ip in network`
# builds and masks address objects, and a create checked every range of both versions that way.
_BOUNDS: dict[int, tuple[tuple[int, int, RefusedRange], ...]] = {
    version: tuple(
        (int(e.network.network_address), int(e.network.broadcast_address), e)
        for e in REFUSED_NETWORKS
        if e.network.version == version
    )
    for version in (4, 6)
}


def refused_range(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> RefusedRange | None:
    """The first range of the table holding `ip`, if any."""
    value = int(ip)
    for first, last, entry in _BOUNDS[ip.version]:
        if first <= value <= last:
            return entry
    return None


def is_internal_address(address: str, allowed: Sequence[Network] = ()) -> bool:
    """True unless the address is public: in no range of `REFUSED_NETWORKS` and, for 6to4, carrying
    a public IPv4 address. `allowed` (PATCHBAY_USER_HOST_ALLOWED_NETWORKS) opens the ranges it
    names, except the metadata addresses."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True
    if ip in METADATA_ADDRESSES:
        return True
    if any(ip.version == network.version and ip in network for network in allowed):
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip in SIX_TO_FOUR:
        inner = ip.sixtofour
        return inner is None or is_internal_address(str(inner), allowed)
    return refused_range(ip) is not None


class HostNotAllowed(Exception):
    pass


async def resolve_addresses(settings: Settings, host: str) -> list[str]:
    """The A then AAAA answers for `host` (both asked at once, each bounded by
    PATCHBAY_HTTP_TIMEOUT); an address literal is its own answer."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    resolver = make_resolver(settings)

    async def lookup(rdtype: str) -> list[str]:
        try:
            answer = await resolver.resolve(host, rdtype)
        except (dns.exception.DNSException, OSError, ValueError, UnicodeError):
            return []
        return [r.to_text() for r in answer]

    v4, v6 = await asyncio.gather(lookup("A"), lookup("AAAA"))  # pragma: no mutate (types ignore case)
    return v4 + v6


async def ensure_public_host(settings: Settings, host: str) -> list[str]:
    """Resolve a host a user typed in and refuse it when any address is internal (SSRF guard).

    The addresses returned are the ones checked: connect to them (kit.http.guarded_client does),
    never to a fresh lookup of the name, which could answer differently (DNS rebinding)."""
    addresses = await resolve_addresses(settings, host)
    allowed = settings.user_host_networks()
    if not addresses or any(is_internal_address(a, allowed) for a in addresses):
        raise HostNotAllowed(host)
    return addresses
