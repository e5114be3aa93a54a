"""The four templates are valid against the template format (spec §5.2–5.3)."""

from __future__ import annotations

import json
import re

import pytest

from patchbay.config import Settings
from patchbay.domain_connect import template_store

REQUIRED = {"providerId", "providerName", "serviceId", "serviceName", "records"}
OPTIONAL = {
    "version", "logoUrl", "description", "variableDescription", "syncBlock", "shared", "sharedProviderName",
    "sharedServiceName", "syncPubKeyDomain", "syncRedirectDomain", "multiInstance", "warnPhishing", "hostRequired",
}  # fmt: skip
RECORD_FIELDS = {
    "A": {"host", "pointsTo", "ttl"},
    "AAAA": {"host", "pointsTo", "ttl"},
    "CNAME": {"host", "pointsTo", "ttl"},
    "NS": {"host", "pointsTo", "ttl"},
    "TXT": {"host", "data", "ttl"},
    "MX": {"host", "pointsTo", "ttl", "priority"},
    "SRV": {"name", "target", "ttl", "priority", "protocol", "service", "weight", "port"},
    "SPFM": {"host", "spfRules"},
}
SERVICE_IDS = {"email-verification-us", "email-verification-eu", "reverse-proxy-us", "reverse-proxy-eu"}


def test_shipped_files_are_named_after_their_ids() -> None:
    files = sorted(template_store.TEMPLATE_DIR.glob("*.json"))
    assert len(files) == 4
    for path in files:
        template = json.loads(path.read_text())
        assert path.name == template_store.file_name(template) == path.name.lower()
        assert template["providerId"] == template_store.SHIPPED_PROVIDER_ID
    assert {json.loads(p.read_text())["serviceId"] for p in files} == SERVICE_IDS


@pytest.mark.parametrize("service_id", sorted(SERVICE_IDS))
def test_template_is_valid(service_id: str) -> None:
    template = template_store.templates(Settings(_env_file=None))[service_id]  # type: ignore[call-arg]
    assert REQUIRED <= set(template) <= REQUIRED | OPTIONAL
    assert re.fullmatch(r"[A-Za-z0-9._-]+", template["serviceId"])
    assert template["syncBlock"] is False
    assert template["syncPubKeyDomain"] == "domainconnect.patchbay.dev"  # signing is required
    for record in template["records"]:
        assert RECORD_FIELDS[record["type"]] <= set(record), record
        assert "%" not in record.get("groupId", "")
        if record["type"] == "CNAME" and record["host"] in ("", "@"):
            assert template.get("hostRequired") is True
        if record["type"] == "TXT":
            assert record.get("txtConflictMatchingMode", "None") in ("None", "All", "Prefix")


def test_templates_follow_the_configured_provider_id_and_site() -> None:
    settings = Settings(
        _env_file=None, domain_connect_provider_id="dns.acme.io", site_url="https://patchbay.acme.io/"
    )  # type: ignore[call-arg]
    for template in template_store.templates(settings).values():
        assert template["providerId"] == "dns.acme.io"
        assert template["syncPubKeyDomain"] == "domainconnect.dns.acme.io"
        assert template["syncRedirectDomain"] == "patchbay.acme.io"
        assert template_store.file_name(template).startswith("dns.acme.io.")


def test_region_picks_the_service() -> None:
    us = Settings(_env_file=None)  # type: ignore[call-arg]
    eu = Settings(_env_file=None, ses_region="eu-west-1")  # type: ignore[call-arg]
    assert template_store.service_id(us, "email") == "email-verification-us"
    assert template_store.service_id(eu, "email") == "email-verification-eu"
    assert template_store.service_id(eu, "proxy") == "reverse-proxy-eu"


def test_placeholders() -> None:
    templates = template_store.templates(Settings(_env_file=None))  # type: ignore[call-arg]
    email = {"verifyToken", "dkim1", "dkim2", "dkim3", "mailFromSub", "sesRegion"}
    assert template_store.placeholders(templates["email-verification-us"]) == email
    assert template_store.placeholders(templates["email-verification-eu"]) == email
    assert template_store.placeholders(templates["reverse-proxy-us"]) == {"target"}
