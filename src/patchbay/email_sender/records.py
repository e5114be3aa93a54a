"""The DNS records an SES sending domain needs, and whether DNS already shows each of them.

SES's own verdict is not taken alone: like the Domain Connect spec asks, the records must be
visible in DNS too before a domain counts as verified."""

from __future__ import annotations

from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver

from patchbay.config import Settings
from patchbay.kit.dns import make_resolver

DNS_LIFETIME = 3.0
SUCCESS = "success"
PENDING = "pending"
REQUIRED_TYPES = ("verification", "dkim")


def ses_records(
    domain: str, verify_token: str | None, dkim_tokens: list[str], mail_from_subdomain: str, region: str
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    if verify_token:
        records.append(_record("verification", "TXT", f"_amazonses.{domain}", verify_token))
    for token in dkim_tokens:
        records.append(
            _record("dkim", "CNAME", f"{token}._domainkey.{domain}", f"{token}.dkim.amazonses.com")
        )
    mail_from = f"{mail_from_subdomain}.{domain}"
    records.append(_record("mail_from", "MX", mail_from, f"10 feedback-smtp.{region}.amazonses.com"))
    records.append(_record("spf", "TXT", mail_from, "v=spf1 include:amazonses.com ~all"))
    records.append(_record("dmarc", "TXT", f"_dmarc.{domain}", "v=DMARC1; p=none;"))
    return records


def _record(kind: str, rtype: str, hostname: str, value: str) -> dict[str, Any]:
    return {
        "type": kind,
        "recordType": rtype,
        "recordHostname": hostname,
        "recordValue": value,
        "status": PENDING,
    }


async def _values(resolver: dns.asyncresolver.Resolver, name: str, rtype: str) -> list[str]:
    try:
        answer = await resolver.resolve(name, rtype)
    except (dns.exception.DNSException, OSError):
        return []
    if rtype == "TXT":
        return [b"".join(r.strings).decode(errors="replace") for r in answer]
    if rtype == "MX":
        return [f"{r.preference} {r.exchange.to_text().rstrip('.').lower()}" for r in answer]
    return [r.to_text().rstrip(".").lower() for r in answer]


def _present(record: dict[str, Any], values: list[str]) -> bool:
    expected: str = record["recordValue"]
    if record["type"] == "spf":
        return any(v.lower().startswith("v=spf1") and "include:amazonses.com" in v.lower() for v in values)
    if record["type"] == "dmarc":
        return any(v.lower().startswith("v=dmarc1") for v in values)
    if record["recordType"] == "MX":
        host = expected.split()[-1]
        return any(v.split()[-1] == host for v in values)
    if record["recordType"] == "CNAME":
        return expected.lower() in values
    return expected in values


async def check_records(settings: Settings, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each record with `status` success when DNS answers with it, pending otherwise."""
    resolver = make_resolver(settings, lifetime=DNS_LIFETIME)
    checked = []
    for record in records:
        values = await _values(resolver, record["recordHostname"], record["recordType"])
        checked.append({**record, "status": SUCCESS if _present(record, values) else PENDING})
    return checked


def required_present(records: list[dict[str, Any]]) -> bool:
    required = [r for r in records if r["type"] in REQUIRED_TYPES]
    return bool(required) and all(r["status"] == SUCCESS for r in required)
