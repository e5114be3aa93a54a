"""The four Domain Connect templates shipped in `templates/`, re-labelled for the configured
provider id, and the service ids the apply URLs use."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from patchbay.config import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"
SHIPPED_PROVIDER_ID = "patchbay.dev"
EMAIL = "email"
PROXY = "proxy"
SERVICE_PREFIX = {EMAIL: "email-verification", PROXY: "reverse-proxy"}
BUILTIN_VARIABLES = frozenset({"host", "domain", "fqdn"})
_VARIABLE = re.compile(r"%([A-Za-z0-9_]+)%")


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict[str, Any]]:
    templates: dict[str, dict[str, Any]] = {}
    for path in sorted(TEMPLATE_DIR.glob(f"{SHIPPED_PROVIDER_ID}.*.json")):
        template = json.loads(path.read_text())
        templates[template["serviceId"]] = template
    return templates


def pubkey_domain(settings: Settings) -> str:
    return f"domainconnect.{settings.domain_connect_provider_id}"


def region(settings: Settings) -> str:
    """`eu` when SES sends from an EU region, else `us` (PostHog picks by its cloud region)."""
    return "eu" if settings.ses_region.lower().startswith("eu-") else "us"


def service_id(settings: Settings, context: str) -> str:
    return f"{SERVICE_PREFIX[context]}-{region(settings)}"


def templates(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every template keyed by service id, as an operator publishes them for this deployment."""
    redirect_host = urlsplit(settings.site_url).hostname or SHIPPED_PROVIDER_ID
    result: dict[str, dict[str, Any]] = {}
    for sid, shipped in _shipped().items():
        template = copy.deepcopy(shipped)
        template["providerId"] = settings.domain_connect_provider_id
        template["syncPubKeyDomain"] = pubkey_domain(settings)
        template["syncRedirectDomain"] = redirect_host
        result[sid] = template
    return result


def file_name(template: dict[str, Any]) -> str:
    return f"{template['providerId']}.{template['serviceId']}.json".lower()


def placeholders(template: dict[str, Any]) -> set[str]:
    """Variables a caller must send: every `%name%` in the records except the built-ins."""
    found: set[str] = set()
    for record in template["records"]:
        for value in record.values():
            if isinstance(value, str):
                found.update(_VARIABLE.findall(value))
    return found - BUILTIN_VARIABLES
