"""DNS resolution through PATCHBAY_DNS_NAMESERVERS, and the address guard for user-typed hosts."""

from __future__ import annotations

import ipaddress

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


METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def is_internal_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip in METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


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
    """Resolve a host a user typed in and refuse it when any address is internal (SSRF guard)."""
    addresses = await resolve_addresses(settings, host)
    if not addresses or any(is_internal_address(a) for a in addresses):
        raise HostNotAllowed(host)
    return addresses
