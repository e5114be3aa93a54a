"""Property-based fuzz (Hypothesis) over every route the app serves: each path parameter, query
parameter and top-level JSON body field (and the keys of `config`) gets hostile values — lone
surrogates, NULs, numbers past 32 and 64 bits, negative numbers, Unicode digits, `+1`, ` 1`, `1_0` —
and no answer may be a 5xx; every 4xx is PostHog's envelope.

The operations come from the app's OpenAPI document plus the routes it leaves out, so a new route is
fuzzed without an edit here. CI runs a small, derandomized budget per route on each backend
(PATCHBAY_FUZZ_PROFILE=ci, the default); `PATCHBAY_FUZZ_PROFILE=long` explores for longer."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patchbay.app import create_app
from patchbay.config import Settings
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.conftest import SITE_URL, TEST_KEY
from tests.provider_resources.helpers import slack_integration
from tests.support.dns_server import DNSTestServer
from tests.support.factory import Factory, Tenant
from tests.support.pg import truncate_all

settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("long", parent=settings.get_profile("ci"), max_examples=400, derandomize=False)
PROFILE = settings.get_profile(os.environ.get("PATCHBAY_FUZZ_PROFILE", "ci"))

# Swept over every parameter of every route (values the issue found or named).
CORE_STRINGS = ["\ud800", "a\x00b", "\u0661", "+1", " 1", "1_0"]
CORE_NUMBERS = [2**31, 2**63, 2**64, -1]
# Explored at random on top.
HOSTILE_STRINGS = CORE_STRINGS + [
    "\udfff", "a\ud83db", "\x00", "%00", "", " ", "null", str(2**31 - 1), str(2**63), "0", str(-(2**63) - 1),
    "\u0661\u0662", "\uff11", "\u0967", "1 ", "01", "1e3", "0x10", "\U0001f600", "\u202e", "x" * 3000,
    "../..", "a/b", "@current",
]  # fmt: skip
HOSTILE_NUMBERS = CORE_NUMBERS + [2**31 - 1, 2**63 - 1, 0, -(2**31) - 1, -(2**63) - 1, 10**40]
# server_error at 400 too: PostHog's slack_integration_inactive is a 400 of type server_error.
ENVELOPE_TYPES = {"validation_error", "invalid_request", "authentication_error", "throttled_error", "server_error"}

hostile_string = st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=12)
hostile_number = st.sampled_from(HOSTILE_NUMBERS) | st.integers()
json_scalar = hostile_string | hostile_number | st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
json_value = json_scalar | st.lists(json_scalar, max_size=3) | st.dictionaries(hostile_string, json_scalar, max_size=3)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    body_fields: tuple[str, ...] = ()
    has_body: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _schema_app() -> FastAPI:
    key = Fernet.generate_key().decode()
    return create_app(Settings(_env_file=None, database_url="sqlite:///:memory:", encryption_keys=key))  # type: ignore[call-arg]


def _body_fields(schema: dict[str, Any], components: dict[str, Any]) -> tuple[str, ...]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return tuple(schema.get("properties", {}))


def collect_operations(app: FastAPI) -> list[Operation]:
    document = app.openapi()
    components = document.get("components", {}).get("schemas", {})
    found = []
    for path, operations in document["paths"].items():
        if path.startswith("/api/environments/"):
            continue  # the deprecated alias runs the same handlers as /api/projects/
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    query_params=tuple(p["name"] for p in parameters if p["in"] == "query"),
                    body_fields=_body_fields(body.get("schema", {}), components),
                    has_body="requestBody" in operation or method in ("post", "put", "patch"),
                )
            )
    # Routes the document leaves out (operations, the Vercel linking page).
    for included in app.routes:
        router = getattr(included, "original_router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute) and not route.include_in_schema:
                prefix = included.include_context.prefix  # type: ignore[attr-defined]
                for method in sorted(route.methods):
                    found.append(
                        Operation(
                            method=method,
                            path=prefix + route.path,
                            path_params=tuple(p.name for p in route.dependant.path_params),
                            query_params=tuple(p.name for p in route.dependant.query_params),
                        )
                    )
    return found


OPERATIONS = collect_operations(_schema_app())


def test_every_route_is_fuzzed() -> None:
    paths = {op.path for op in OPERATIONS}
    assert {"/_health", "/metrics", "/connect/vercel/link", "/integrations/{kind}/callback"} <= paths
    assert "/api/projects/{project_id}/integrations/domain-connect/apply-url" in paths
    assert len(OPERATIONS) >= 30


@dataclass
class Target:
    client: httpx.AsyncClient
    tenant: Tenant
    good_path: dict[str, str]
    good_body: dict[str, Any]
    good_config: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def dns() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@pytest.fixture(scope="module")
async def target(database_url: str, sandbox_server: SandboxServer, dns: DNSTestServer) -> AsyncIterator[Target]:
    """One tenant, app and client for every route's fuzz on a backend (built once: the budget is for
    requests). Settings as make_settings gives them, with a loopback DNS server that knows no names,
    so every lookup is answered at once."""
    settings_ = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, site_url=SITE_URL, encryption_keys=TEST_KEY,
        rate_limit="off", rate_limit_anonymous="off", http_timeout=1.0, kind_overrides=sandbox_server.env(),
        dns_nameservers=dns.address, email_provider="maildev",
    )  # fmt: skip
    runtime = build_runtime(settings_)
    try:
        factory = Factory(runtime)
        tenant = await factory.tenant()
        sid = twilio.add_account(sandbox_server.state, auth_token="t")
        slack_api.add_channel(sandbox_server.state, "general")
        slack, _ = await slack_integration(factory, sandbox_server, tenant)
        rows = [
            await factory.integration(tenant.project, "twilio", sid, {"account_sid": sid}, {"auth_token": "t"}),
            slack,
        ]
        app = create_app(runtime.settings, runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SITE_URL) as client:
            project, organization = str(tenant.project.id), str(tenant.organization.id)
            # A valid request of each route; one value at a time is then replaced by a hostile one.
            good_path = {"project_id": project, "organization_id": organization, "id": str(rows[1].id),
                         "integration_pk": str(uuid.uuid4()), "kind": "slack", "installation_id": "icfg_1"}  # fmt: skip
            good_body = {
                "context": "email", "integration_id": rows[0].id, "proxy_record_id": str(uuid.uuid4()),
                "redirect_uri": "https://example.com/done", "provider_endpoint": "domainconnect.vercel.com",
                "production": project, "preview": project, "development": project, "domain": "ph.example.com",
                "session": "s" * 20, "organization_id": organization, "team_id": project, "project_id": project,
                "scopes": ["read"], "acceptedPolicies": {"toc": "2024-02-28T10:00:00Z"},
                "credentials": {"access_token": "a", "token_type": "Bearer"},
                "account": {"url": "https://vercel.com/acme", "contact": {"email": "a@example.com"}},
            }  # fmt: skip
            good_config = {
                "twilio": {"account_sid": sid, "auth_token": "t"},
                "databricks": {"server_hostname": "db.example.com", "client_id": "c", "client_secret": "s"},
                "slack": {"state": "next=%2F&token=abc", "code": "c"},
                "email": {"email": "a@example.com", "name": "A", "mail_from_subdomain": "mail"},
            }
            yield Target(client, tenant, good_path, good_body, good_config)
    finally:
        await runtime.close()
        await truncate_all(database_url)


def _encoded(value: str) -> str:
    # What a client puts on the wire: UTF-8 (a lone surrogate as its three bytes), percent-encoded.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


Request = tuple[str, str, bytes | None]


def mutation_targets(operation: Operation, target: Target, kind: str | None) -> list[str]:
    """Every value a request of `operation` carries: `path.x`, `query.x`, `body.x`, `body.x.y`."""
    names = [f"path.{p}" for p in operation.path_params] + [f"query.{q}" for q in operation.query_params]
    for name in operation.body_fields:
        names.append(f"body.{name}")
        nested = target.good_config.get(kind or "", {}) if name == "config" else target.good_body.get(name)
        if isinstance(nested, dict):
            names += [f"body.{name}.{key}" for key in nested]
    return names


def build(operation: Operation, target: Target, kind: str | None, where: str | None, value: Any) -> Request:
    """A valid request of `operation` with the value at `where` replaced by `value`."""
    path = operation.path
    for name in operation.path_params:
        # DELETE never gets a real id: the rows must stay for the routes fuzzed after it.
        good = "2147483647" if operation.method == "DELETE" and name in ("id", "integration_pk") else target.good_path.get(name, "1")
        text = str(value) if where == f"path.{name}" else good
        path = path.replace("{" + name + "}", _encoded(text) or "%20")
    query = [f"{_encoded(name)}={_encoded(str(value))}" for name in operation.query_params if where == f"query.{name}"]
    url = path + ("?" + "&".join(query) if query else "")
    if not operation.has_body:
        return operation.method, url, None
    body: dict[str, Any] = {}
    for name in operation.body_fields:
        if name == "kind":
            body[name] = kind
        elif name == "config":
            body[name] = dict(target.good_config.get(kind or "", {}))
        elif name in target.good_body:
            good = target.good_body[name]
            body[name] = dict(good) if isinstance(good, dict) else good
    if where and where.startswith("body."):
        parts = where.split(".")[1:]
        holder = body
        for part in parts[:-1]:
            holder = holder.setdefault(part, {})
        holder[parts[-1]] = value
    return operation.method, url, json.dumps(body).encode()  # ensure_ascii: surrogates as \ud800 escapes


def kinds_of(operation: Operation, target: Target) -> list[str | None]:
    return list(target.good_config) if "kind" in operation.body_fields else [None]


HTML_PAGES = ("/connect/", "/api/docs")


def assert_sound(response: httpx.Response, request: str) -> None:
    if response.headers.get("patchbay-proxy") == "upstream":
        return  # the provider's own answer, passed on by the proxy (status, body and all)
    assert response.status_code < 500, f"{request} -> {response.status_code} {response.text[:300]}"
    assert response.status_code != 422, request
    if response.headers.get("content-type", "").startswith("text/html"):
        # Pages for people (the connect pages, the API docs) answer HTML, errors included.
        assert request.split(" ", 2)[1].startswith(HTML_PAGES), request
        return
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"type", "code", "detail", "attr"}, (request, body)
        assert body["type"] in ENVELOPE_TYPES, (request, body)
        assert isinstance(body["detail"], str) and isinstance(body["code"], str), (request, body)
        assert body["attr"] is None or isinstance(body["attr"], str), (request, body)


async def send(target: Target, request: Request) -> None:
    method, url, body = request
    headers = {**target.tenant.headers, "content-type": "application/json"}
    response = await target.client.request(method, url, content=body, headers=headers)
    assert_sound(response, f"{method} {url} {body[:300] if body else body!r}")


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.id for op in OPERATIONS])
async def test_every_value_of_every_route_meets_the_core_hostile_values(
    target: Target, operation: Operation
) -> None:
    """The sweep: each value of a valid request, replaced in turn by each core hostile value."""
    for kind in kinds_of(operation, target):
        await send(target, build(operation, target, kind, None, None))
        for where in mutation_targets(operation, target, kind):
            for value in [*CORE_STRINGS, *CORE_NUMBERS]:
                await send(target, build(operation, target, kind, where, value))


@st.composite
def hostile_requests(draw: st.DrawFn, operation: Operation, target: Target) -> Request:
    kind = draw(st.sampled_from(kinds_of(operation, target)))
    wheres = mutation_targets(operation, target, kind)
    if not wheres:
        return build(operation, target, kind, None, None)
    where = draw(st.sampled_from(wheres))
    value = draw(json_value if where.startswith("body.") else (hostile_string | hostile_number.map(str)))
    return build(operation, target, kind, where, value)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.id for op in OPERATIONS])
@PROFILE
@given(data=st.data())
async def test_no_server_error_and_always_the_envelope(
    target: Target, operation: Operation, data: st.DataObject
) -> None:
    """Hypothesis: any value at any place, strings and numbers of every kind."""
    await send(target, data.draw(hostile_requests(operation, target)))
