"""The permission matrix: one line per route the app serves, saying who may call it.

`{P}` stands for both project mounts (/api/projects/{project_id} and /api/environments/{project_id});
`use` names the `World.use_<name>` that builds what the route acts on; `ok` is the rightful
caller's status. docs/testing.md ("Permission matrix") says how to add a line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, routing

from tests.security.matrix_world import World
from tests.security.rules import (
    NOT_ORG_ADMIN,
    NOT_PROJECT_ADMIN,
    OAUTH_STATE,
    PUBLIC,
    VERCEL_CODE,
    VERCEL_SIGNATURE,
    ConnectToken,
    ConsoleSession,
    ConsoleSignIn,
    ExplicitScopeRule,
    LinkRule,
    OrganizationRule,
    OwnCredential,
    ProjectRule,
    VercelOidc,
)

P = "{P}"
PROJECT_MOUNTS = ("/api/projects/{project_id}", "/api/environments/{project_id}")
O = "/api/organizations/{organization_id}"  # noqa: E741

READ = ProjectRule("integration:read")
WRITE = ProjectRule("integration:write")
PROJECT_ADMIN = ProjectRule("integration:write", admin=NOT_PROJECT_ADMIN)
# Deleting needs project admin or the integration's creator; the matrix's member is neither.
DELETE_INTEGRATION = ProjectRule("integration:write", admin=NOT_PROJECT_ADMIN)
# Handing out provider tokens: the scope named on the key (`*` does not grant it) and a project admin.
CREDENTIALS = ExplicitScopeRule("integration_credentials:read", admin=NOT_PROJECT_ADMIN)
ORG_READ = OrganizationRule("organization_integration:read")
ORG_ADMIN = OrganizationRule("organization_integration:write", admin=NOT_ORG_ADMIN)
WEBHOOK_READ = ProjectRule("webhook:read")
WEBHOOK_ADMIN = ProjectRule("webhook:write", admin=NOT_PROJECT_ADMIN)
PROXY_READ = OrganizationRule("proxy_record:read")
PROXY_ADMIN = OrganizationRule("proxy_record:write", admin=NOT_ORG_ADMIN)
# Console pages: a signed-in session (see rules.ConsoleSession). OWN: pages of the user's own
# things (any signed-in user may); PAGE/ORG_PAGE: a project's or an organization's, as the API
# refuses an outsider (403 / 404); *_ADMIN: writes the API keeps for admins (403 to a member).
C = "/console"
CP = "/console/projects/{project_id}"
CO = "/console/organizations/{organization_id}"
OWN = ConsoleSession(stranger=200)
OWN_KEY = ConsoleSession(stranger=404, member=404, form=True)
PAGE = ConsoleSession(stranger=403)
PAGE_FORM = ConsoleSession(stranger=403, form=True)
PAGE_ADMIN = ConsoleSession(stranger=403, member=403, form=True)
ORG_PAGE = ConsoleSession(stranger=404)
ORG_ADMIN_FORM = ConsoleSession(stranger=404, member=403, form=True)

Rule = ProjectRule | OrganizationRule | LinkRule | OwnCredential | VercelOidc | ConnectToken | ConsoleSession | ConsoleSignIn


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    rule: Rule
    ok: int
    use: str | None = None
    query: dict[str, Any] = field(default_factory=dict)

    @property
    def reads_only(self) -> bool:
        """Its requests change nothing: entries may share what they act on."""
        return self.method == "GET" and isinstance(self.rule, ProjectRule | OrganizationRule)

    def paths(self) -> list[str]:
        if self.path.startswith(P):
            return [mount + self.path[len(P) :] for mount in PROJECT_MOUNTS]
        return [self.path]


# fmt: off
TABLE: list[Entry] = [
    # project integrations
    Entry("GET", P + "/integrations", READ, 200),
    Entry("POST", P + "/integrations", WRITE, 201, "new_twilio"),
    Entry("GET", P + "/integrations/{id}", READ, 200, "twilio"),
    Entry("DELETE", P + "/integrations/{id}", DELETE_INTEGRATION, 204, "twilio"),
    Entry("POST", P + "/integrations/{id}/check", WRITE, 200, "twilio"),
    # provider resources
    Entry("GET", P + "/integrations/{id}/activity", READ, 200, "twilio"),
    Entry("GET", P + "/integrations/{id}/credentials", CREDENTIALS, 200, "twilio"),
    # The proxy answers what Slack's simulator answers: auth.test takes GET and POST, other methods 405.
    Entry("GET", P + "/integrations/{id}/proxy/{path}", WRITE, 200, "slack_proxy"),
    Entry("POST", P + "/integrations/{id}/proxy/{path}", WRITE, 200, "slack_proxy"),
    Entry("PUT", P + "/integrations/{id}/proxy/{path}", WRITE, 405, "slack_proxy"),
    Entry("PATCH", P + "/integrations/{id}/proxy/{path}", WRITE, 405, "slack_proxy"),
    Entry("DELETE", P + "/integrations/{id}/proxy/{path}", WRITE, 405, "slack_proxy"),
    Entry("GET", P + "/integrations/{id}/channels", READ, 200, "slack"),
    Entry("GET", P + "/integrations/{id}/users", READ, 200, "slack"),
    Entry("GET", P + "/integrations/{id}/clickup_workspaces", READ, 200, "clickup"),
    Entry("GET", P + "/integrations/{id}/clickup_spaces", READ, 200, "clickup", {"workspaceId": "9001"}),
    Entry("GET", P + "/integrations/{id}/clickup_lists", READ, 200, "clickup", {"spaceId": "790"}),
    Entry("GET", P + "/integrations/{id}/linear_teams", READ, 200, "linear"),
    Entry("GET", P + "/integrations/{id}/twilio_phone_numbers", READ, 200, "twilio"),
    Entry("GET", P + "/integrations/{id}/asana_workspaces", READ, 200, "asana"),
    Entry("GET", P + "/integrations/{id}/github_repos", READ, 200, "github"),
    Entry("POST", P + "/integrations/{id}/github_repos/refresh", WRITE, 200, "github"),
    Entry("GET", P + "/integrations/{id}/github_branches", READ, 200, "github", {"repo": "matrix-org/web"}),
    Entry("GET", P + "/integrations/{id}/github_teams", READ, 200, "github"),
    Entry("GET", P + "/integrations/{id}/jira_projects", READ, 200, "jira"),
    Entry("GET", P + "/integrations/{id}/linkedin_ads_accounts", READ, 200, "linkedin_ads"),
    Entry("GET", P + "/integrations/{id}/linkedin_ads_conversion_rules", READ, 200, "linkedin_ads", {"accountId": "1"}),
    Entry("GET", P + "/integrations/{id}/anthropic_managed_agents", READ, 200, "anthropic"),
    Entry("GET", P + "/integrations/{id}/anthropic_managed_agent_environments", READ, 200, "anthropic"),
    Entry("GET", P + "/integrations/{id}/anthropic_managed_agent_vaults", READ, 200, "anthropic"),
    Entry("GET", P + "/integrations/{id}/google_accessible_accounts", READ, 200, "google_ads"),
    Entry("GET", P + "/integrations/{id}/google_conversion_actions", READ, 200, "google_ads", {"customerId": "4242"}),
    # OAuth, Domain Connect, email senders
    Entry("GET", P + "/integrations/authorize", WRITE, 302, query={"kind": "slack", "next": "/done"}),
    Entry("GET", P + "/integrations/domain-connect/check", READ, 200, query={"domain": "matrix.example"}),
    Entry("POST", P + "/integrations/domain-connect/apply-url", PROJECT_ADMIN, 400, "email_apply_url"),
    Entry("POST", P + "/integrations/{id}/email/verify", PROJECT_ADMIN, 200, "email"),
    Entry("PATCH", P + "/integrations/{id}/email", PROJECT_ADMIN, 200, "email"),
    # organization integrations and proxy records
    Entry("GET", O + "/integrations", ORG_READ, 200),
    Entry("GET", O + "/integrations/{integration_pk}", ORG_READ, 200, "org_integration"),
    Entry("DELETE", O + "/integrations/{integration_pk}", ORG_ADMIN, 204, "org_integration"),
    Entry("PATCH", O + "/integrations/{integration_pk}/environment-mapping", ORG_ADMIN, 200, "org_integration"),
    Entry("GET", O + "/proxy_records", PROXY_READ, 200),
    Entry("POST", O + "/proxy_records", PROXY_ADMIN, 201, "new_proxy_record"),
    Entry("GET", O + "/proxy_records/{id}", PROXY_READ, 200, "proxy_record"),
    Entry("DELETE", O + "/proxy_records/{id}", PROXY_ADMIN, 204, "proxy_record"),
    Entry("POST", P + "/connect_sessions", WRITE, 201, "new_connect_session"),
    Entry("GET", P + "/webhooks", WEBHOOK_READ, 200),
    Entry("POST", P + "/webhooks", WEBHOOK_ADMIN, 201, "new_webhook"),
    Entry("GET", P + "/webhooks/{id}", WEBHOOK_READ, 200, "webhook_endpoint"),
    Entry("PATCH", P + "/webhooks/{id}", WEBHOOK_ADMIN, 200, "webhook_endpoint"),
    Entry("DELETE", P + "/webhooks/{id}", WEBHOOK_ADMIN, 204, "webhook_endpoint"),
    Entry("POST", P + "/webhooks/{id}/rotate-secret", WEBHOOK_ADMIN, 200, "webhook_endpoint"),
    Entry("POST", P + "/webhooks/{id}/test", WEBHOOK_ADMIN, 202, "webhook_endpoint"),
    Entry("GET", P + "/webhooks/{id}/deliveries", WEBHOOK_READ, 200, "webhook_endpoint"),
    Entry("POST", P + "/webhooks/{id}/deliveries/{delivery_id}/redeliver", WEBHOOK_ADMIN, 202, "webhook_delivery"),
    # connect pages (the token in the path is the capability)
    Entry("GET", "/connect/connect.js", PUBLIC, 200),
    Entry("GET", "/connect/static/{name}", PUBLIC, 200, "connect_asset"),
    Entry("GET", "/connect/{token}", ConnectToken(), 200, "connect_page"),
    Entry("GET", "/connect/{token}/oauth/{kind}", ConnectToken(), 302, "connect_oauth"),
    Entry("POST", "/connect/{token}/kinds/{kind}", ConnectToken(form=True), 303, "connect_form"),
    # the console (a signed-in session is the credential; forms need its CSRF token)
    Entry("GET", C + "/static/{name}", PUBLIC, 200, "console_asset"),
    Entry("GET", C, ConsoleSession(stranger=303), 303),
    Entry("GET", C + "/sign-in", PUBLIC, 200),
    Entry("POST", C + "/sign-in", ConsoleSignIn(), 303, "console_sign_in"),
    Entry("POST", C + "/sign-out", ConsoleSession(stranger=303, form=True), 303, "console_sign_out"),
    Entry("GET", C + "/organizations", OWN, 200),
    Entry("POST", CP + "/current", PAGE_FORM, 303),
    Entry("GET", CP + "/integrations", PAGE, 200),
    Entry("POST", CP + "/integrations/connect", PAGE_FORM, 303, "console_connect"),
    Entry("POST", CP + "/integrations/{integration_id}/delete", PAGE_ADMIN, 303, "console_twilio"),
    Entry("POST", CP + "/integrations/{integration_id}/check", PAGE_FORM, 303, "console_twilio"),
    Entry("GET", CP + "/integrations/{integration_id}/activity", PAGE, 200, "console_twilio"),
    Entry("GET", CP + "/integrations/{integration_id}/channels", PAGE, 200, "console_slack"),
    Entry("GET", C + "/keys", OWN, 200),
    Entry("POST", C + "/keys", ConsoleSession(stranger=201, form=True), 201, "console_new_key"),
    Entry("POST", C + "/keys/{key_id}/revoke", OWN_KEY, 303, "console_key"),
    Entry("GET", CP + "/webhooks", PAGE, 200),
    Entry("POST", CP + "/webhooks", PAGE_ADMIN, 201, "console_new_webhook"),
    Entry("GET", CP + "/webhooks/{webhook_id}", PAGE, 200, "console_webhook"),
    Entry("POST", CP + "/webhooks/{webhook_id}/ping", PAGE_ADMIN, 303, "console_webhook"),
    Entry("POST", CP + "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", PAGE_ADMIN, 303, "console_delivery"),
    Entry("POST", CP + "/webhooks/{webhook_id}/delete", PAGE_ADMIN, 303, "console_webhook"),
    Entry("GET", CP + "/email-senders", PAGE, 200),
    Entry("POST", CP + "/email-senders/{sender_id}/verify", PAGE_ADMIN, 200, "console_email"),
    Entry("POST", CP + "/email-senders/{sender_id}/domain-connect", PAGE_ADMIN, 400, "console_email"),
    Entry("GET", CO + "/vercel", ORG_PAGE, 200),
    Entry("POST", CO + "/vercel/{integration_pk}/mapping", ORG_ADMIN_FORM, 303, "console_org_integration"),
    Entry("GET", CO + "/proxy-records", ORG_PAGE, 200),
    Entry("POST", CO + "/proxy-records", ORG_ADMIN_FORM, 303, "console_new_proxy_record"),
    Entry("POST", CO + "/proxy-records/{record_id}/delete", ORG_ADMIN_FORM, 303, "console_proxy_record"),
    # browser returns, Vercel, operations, documentation
    Entry("GET", "/integrations/{kind}/callback", OAUTH_STATE, 302, "oauth_callback"),
    Entry("GET", "/connect/vercel/callback", VERCEL_CODE, 302, "vercel_code"),
    Entry("GET", "/connect/vercel/link", PUBLIC, 200),
    Entry("POST", "/api/vercel/connect/complete", LinkRule(), 201, "link_session"),
    Entry("PUT", "/api/vercel/v1/installations/{installation_id}", VercelOidc("user", "update"), 204, "installation"),
    Entry("GET", "/api/vercel/v1/installations/{installation_id}", VercelOidc("system"), 200, "installation_system"),
    Entry("DELETE", "/api/vercel/v1/installations/{installation_id}", VercelOidc("system"), 200, "installation_system"),
    Entry("POST", "/api/vercel/v1/webhooks", VERCEL_SIGNATURE, 200, "webhook"),
    Entry("GET", "/_health", PUBLIC, 200),
    Entry("GET", "/_ready", PUBLIC, 200),
    Entry("GET", "/metrics", PUBLIC, 200),
    Entry("GET", "/api/schema", PUBLIC, 200),
    Entry("GET", "/api/docs", PUBLIC, 200),
    Entry("GET", "/api/docs/assets/{name}", PUBLIC, 200, "docs_asset"),
]
# fmt: on


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, as its router declares the path."""
    served: set[tuple[str, str]] = set()
    for route in routing.iter_route_contexts(app.routes):
        methods = set(getattr(route, "methods", None) or ())
        if "GET" in methods:
            methods.discard("HEAD")  # answered by the GET route
        for method in methods:
            served.add((method, str(route.path_format)))
    return served


def coverage_problems(app: FastAPI, table: Iterable[Entry]) -> list[str]:
    """Routes without an entry, entries without a route, and routes with two entries."""
    declared: dict[tuple[str, str], int] = {}
    for entry in table:
        for path in entry.paths():
            declared[(entry.method, path)] = declared.get((entry.method, path), 0) + 1
    served = served_routes(app)
    problems = [f"no matrix entry for {m} {p}" for m, p in sorted(served - set(declared))]
    problems += [
        f"matrix entry for {m} {p}, which the app does not serve" for m, p in sorted(set(declared) - served)
    ]
    problems += [
        f"{count} matrix entries for {m} {p}" for (m, p), count in sorted(declared.items()) if count > 1
    ]
    return problems


def _url(path: str, world: World, params: dict[str, str]) -> str:
    values = {
        "project_id": str(world.owner.project.id),
        "organization_id": str(world.owner.organization.id),
        **params,
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise AssertionError(f"{path}: nothing fills {{{name}}}; give the entry a `use`")
        return values[name]

    return re.sub(r"\{(\w+)\}", fill, path)


@dataclass(frozen=True)
class Problem:
    route: str
    rule: str
    caller: str
    message: str

    def __str__(self) -> str:
        return f"{self.route} [{self.rule}] {self.caller}: {self.message}"


async def check_entry(world: World, entry: Entry, path: str) -> list[Problem]:
    """Sends every case of the entry's rule; returns what answered otherwise than the rule says."""
    use = await world.use(entry.use, shared=entry.reads_only)
    problems = []
    for case in await entry.rule.cases(world, use, entry.ok):
        content = case.content if case.content is not None else use.content
        response = await world.client.request(
            entry.method,
            _url(path, world, use.params if case.params is None else case.params),
            params=case.query if case.query is not None else {**entry.query, **use.query},
            json=use.body if content is None else None,
            content=content,
            headers=case.headers,
        )
        world.forget_console_cookies()  # a sign-in's cookie must not ride on the next caller's request
        problem = case.expect.problem(response)
        if problem:
            problems.append(Problem(f"{entry.method} {path}", str(entry.rule), case.caller, problem))
    return problems


async def check(world: World, table: Iterable[Entry]) -> tuple[int, list[Problem]]:
    """(routes checked, problems) for every route of every entry."""
    checked, problems = 0, []
    for entry in table:
        for path in entry.paths():
            problems += await check_entry(world, entry, path)
            checked += 1
    return checked, problems
