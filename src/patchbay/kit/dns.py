"""DNS resolution through PATCHBAY_DNS_NAMESERVERS, and the address guard for user-typed hosts."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import dns.asyncresolver
import dns.exception
import dns.resolver

from patchbay.config import Settings


def make_resolver(settings: Settings, *, lifetime: float = 5.0) -> dns.asyncresolver.Resolver:
    servers = settings.nameservers()
    if servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [host for host, _ in servers]
        resolver.port = servers[0][1]
        resolver.nameserver_ports = {host: port for host, port in servers}
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    return resolver


# Cloud metadata services: refused even inside PATCHBAY_USER_HOST_ALLOWED_NETWORKS.
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 address (2002::/16, itself global) reaches. The other IPv6 forms that
    carry an IPv4 address need no unwrapping: IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 and
    NAT64 64:ff9b::/96 lie in the reserved ::/8, Teredo 2001::/32 is not global: all are refused."""
    return ip.sixtofour


def is_internal_address(address: str, allowed: Sequence[Network] = ()) -> bool:
    """True unless the address is globally routable unicast (and so is any IPv4 it embeds).

    `is_global` is false for every special-purpose range of the IANA registries: loopback, RFC 1918,
    CGNAT 100.64/10, link-local, 0/8, unique-local fc00::/7, documentation and reserved blocks.
    Multicast and reserved ranges (::/8 holds the IPv4-mapped, IPv4-compatible and NAT64 forms) are
    refused on top, and metadata addresses always, whatever `allowed` holds.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True
    if ip in METADATA_ADDRESSES:
        return True
    if any(ip.version == network.version and ip in network for network in allowed):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None and is_internal_address(str(inner), allowed):
            return True
        if ip.is_site_local:  # fec0::/10: deprecated, not in the reserved ranges, still routed
            return True
    return ip.is_multicast or ip.is_reserved or not ip.is_global


class HostNotAllowed(Exception):
    pass


async def resolve_addresses(settings: Settings, host: str) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    resolver = make_resolver(settings)
    addresses: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(host, rdtype)
        except (dns.exception.DNSException, OSError, ValueError, UnicodeError):
            continue
        addresses.extend(r.to_text() for r in answer)
    return addresses


async def ensure_public_host(settings: Settings, host: str) -> list[str]:
    """Resolve a host a user typed in and refuse it when any address is internal (SSRF guard).

    The addresses returned are the ones checked: connect to them (kit.http.guarded_client does),
    never to a fresh lookup of the name, which could answer differently (DNS rebinding)."""
    addresses = await resolve_addresses(settings, host)
    allowed = settings.user_host_networks()
    if not addresses or any(is_internal_address(a, allowed) for a in addresses):
        raise HostNotAllowed(host)
    return addresses
