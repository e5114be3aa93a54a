"""A DNS provider that speaks Domain Connect's synchronous flow, for tests.

It serves `/dc/v2/{domain}/settings` for the zones it hosts, and the apply URL under
`/sync/v2/domainTemplates/providers/{providerId}/services/{serviceId}/apply`. Applying verifies
the signature as the spec says (RS256 over the query as received minus `sig` and `key`, public key
read from the `{key}.{syncPubKeyDomain}` TXT records the test DNS server serves), substitutes the
template's variables, keeps the requested groups, and writes the records into that DNS server.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import dns.asyncresolver
import dns.exception
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from patchbay.sandbox.server import SandboxServer
from tests.support.dns_server import DNSTestServer

SETTINGS_FAULTS = {"500", "429", "timeout", "malformed", "404", "no-sync"}
_VARIABLE = re.compile(r"%([A-Za-z0-9_]+)%")


class ApplyRejected(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class DomainConnectProvider(SandboxServer):
    """Runs on loopback like the sandbox; `endpoint` is what its zones publish in `_domainconnect`."""

    def __init__(
        self,
        dns_server: DNSTestServer,
        templates: dict[str, dict[str, Any]],
        *,
        provider_id: str = "cloudflare.test",
        provider_name: str = "Cloudflare",
        timeout_seconds: float = 12.0,
    ) -> None:
        super().__init__()
        self.dns = dns_server
        self.templates = templates
        self.provider_id = provider_id
        self.provider_name = provider_name
        self.timeout_seconds = timeout_seconds
        self.zones: set[str] = set()
        self.settings_faults: list[str] = []
        self.applied: list[dict[str, Any]] = []
        self.rejections: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/dc/v2/{domain}/settings", self._settings),
                Route(
                    "/sync/v2/domainTemplates/providers/{provider_id}/services/{service_id}/apply",
                    self._apply,
                ),
            ]
        )

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}/dc"

    @property
    def url_sync_ux(self) -> str:
        return f"{self.base_url}/sync"

    def host_zone(self, domain: str, *, publish_discovery: bool = True) -> None:
        self.zones.add(domain)
        if publish_discovery:
            self.dns.replace(f"_domainconnect.{domain}", "TXT", [self.endpoint])

    def fail_settings(self, mode: str, count: int = 1) -> None:
        if mode not in SETTINGS_FAULTS:
            raise ValueError(mode)
        self.settings_faults += [mode] * count

    # --- settings -------------------------------------------------------------------------------
    async def _settings(self, request: Request) -> Response:
        fault = self.settings_faults.pop(0) if self.settings_faults else None
        if fault == "timeout":
            await asyncio.sleep(self.timeout_seconds)
        if fault == "500":
            return JSONResponse({"error": "internal"}, status_code=500)
        if fault == "429":
            return JSONResponse({"error": "slow down"}, status_code=429, headers={"Retry-After": "3"})
        if fault == "malformed":
            return PlainTextResponse("<html>oops", media_type="application/json")
        domain = request.path_params["domain"]
        if fault == "404" or domain not in self.zones:
            return JSONResponse({"error": "zone not found"}, status_code=404)
        document = {
            "providerId": self.provider_id,
            "providerName": self.provider_name,
            "providerDisplayName": self.provider_name,
            "urlAPI": f"{self.base_url}/api",
            "width": 750,
            "height": 750,
            "nameServers": [f"ns1.{self.provider_id}"],
        }
        if fault != "no-sync":
            document["urlSyncUX"] = self.url_sync_ux
        return JSONResponse(document)

    # --- apply ----------------------------------------------------------------------------------
    async def _apply(self, request: Request) -> Response:
        raw_query = request.url.query
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        try:
            template = self._template(request.path_params["provider_id"], request.path_params["service_id"])
            if template.get("syncPubKeyDomain"):
                await self._verify_signature(raw_query, template["syncPubKeyDomain"])
            records = self._resolve(template, params)
        except ApplyRejected as exc:
            self.rejections.append(exc.error)
            return JSONResponse({"error": exc.error}, status_code=exc.status)
        self._write(records)
        self.applied.append(
            {
                "service_id": template["serviceId"],
                "domain": params["domain"],
                "params": params,
                "records": records,
            }
        )
        redirect_uri = params.get("redirect_uri")
        if redirect_uri:
            extra = {"state": params["state"]} if "state" in params else {}
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(
                redirect_uri + (separator + urlencode(extra) if extra else ""), status_code=302
            )
        return JSONResponse({"applied": len(records)})

    def _template(self, provider_id: str, service_id: str) -> dict[str, Any]:
        template = self.templates.get(service_id)
        if template is None or template["providerId"] != provider_id:
            raise ApplyRejected(404, "template not supported")
        return template

    async def _verify_signature(self, raw_query: str, pubkey_domain: str) -> None:
        """Spec: the signature covers the query exactly as sent minus `sig` and `key`."""
        parts = raw_query.split("&")
        signed = "&".join(p for p in parts if not p.startswith(("sig=", "key=")))
        sig = next((unquote_plus(p[4:]) for p in parts if p.startswith("sig=")), None)
        key_label = next((unquote_plus(p[4:]) for p in parts if p.startswith("key=")), None)
        if not sig or not key_label:
            raise ApplyRejected(403, "signature required")
        public_key = await self._public_key(f"{key_label}.{pubkey_domain}")
        try:
            public_key.verify(base64.b64decode(sig), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError) as exc:
            raise ApplyRejected(403, "invalid signature") from exc

    async def _public_key(self, name: str) -> rsa.RSAPublicKey:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [self.dns.host]
        resolver.port = self.dns.port
        resolver.lifetime = 3.0
        try:
            answer = await resolver.resolve(name, "TXT")
        except dns.exception.DNSException as exc:
            raise ApplyRejected(403, "public key not found") from exc
        pieces: list[tuple[int, str]] = []
        for rdata in answer:
            fields = dict(
                item.split("=", 1) for item in b"".join(rdata.strings).decode().split(",") if "=" in item
            )
            if fields.get("a", "RS256") != "RS256" or fields.get("t", "x509") != "x509":
                raise ApplyRejected(403, "unsupported key algorithm")
            pieces.append((int(fields.get("p", "1")), fields.get("d", "")))
        der = base64.b64decode("".join(d for _, d in sorted(pieces)))
        key = serialization.load_der_public_key(der)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ApplyRejected(403, "public key is not RSA")
        return key

    def _resolve(self, template: dict[str, Any], params: dict[str, str]) -> list[dict[str, Any]]:
        domain = params.get("domain", "")
        if domain not in self.zones:
            raise ApplyRejected(400, "domain not hosted here")
        host = params.get("host", "")
        if template.get("hostRequired") and not host:
            raise ApplyRejected(400, "host required")
        fqdn = f"{host}.{domain}" if host else domain
        values = {**params, "host": host, "domain": domain, "fqdn": fqdn}
        groups = set(params["groupId"].split(",")) if params.get("groupId") else None

        def substitute(text: str) -> str:
            def one(match: re.Match[str]) -> str:
                if match.group(1) not in values:
                    raise ApplyRejected(400, f"missing variable {match.group(1)}")
                return values[match.group(1)]

            return _VARIABLE.sub(one, text)

        def absolute(name: str) -> str:
            name = substitute(name)
            if name in ("", "@"):
                return fqdn
            return name.rstrip(".") if name.endswith(".") else f"{name}.{fqdn}"

        records: list[dict[str, Any]] = []
        spf: dict[str, list[str]] = {}
        for record in template["records"]:
            if groups is not None and record.get("groupId") not in groups:
                continue
            rtype = record["type"]
            name = absolute(record.get("host", "@"))
            if rtype == "SPFM":
                spf.setdefault(name, []).append(substitute(record["spfRules"]))
            elif rtype == "TXT":
                records.append({"type": "TXT", "name": name, "value": substitute(record["data"])})
            elif rtype in ("CNAME", "NS"):
                target = substitute(record["pointsTo"])
                records.append({"type": rtype, "name": name, "value": fqdn if target == "@" else target})
            elif rtype == "MX":
                target = substitute(record["pointsTo"])
                value = f"{substitute(str(record['priority']))} {fqdn if target == '@' else target}"
                records.append({"type": "MX", "name": name, "value": value})
            else:
                raise ApplyRejected(400, f"unsupported record type {rtype}")
        for name, rules in spf.items():
            records.append({"type": "SPF", "name": name, "value": " ".join(rules)})
        return records

    def _write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            name, value = record["name"], record["value"]
            if record["type"] == "CNAME":
                self.dns.remove(name)  # a CNAME conflicts with every other record on its name
                self.dns.add(name, "CNAME", value, ttl=3600)
            elif record["type"] == "MX":
                self.dns.replace(name, "MX", [value], ttl=3600)
            elif record["type"] == "SPF":
                existing = [r.value for r in self.dns.records(name, "TXT")]
                others = [v for v in existing if not v.lower().startswith("v=spf1")]
                terms: list[str] = []
                for old in existing:
                    if old.lower().startswith("v=spf1"):
                        terms += [t for t in old.split()[1:] if not t.endswith("all")]
                for term in value.split():
                    if term not in terms:
                        terms.append(term)
                self.dns.replace(name, "TXT", [*others, "v=spf1 " + " ".join(terms) + " ~all"], ttl=3600)
            else:
                if value not in [r.value for r in self.dns.records(name, record["type"])]:
                    self.dns.add(name, record["type"], value, ttl=3600)
