"""Who may call a route, as the callers the permission matrix sends and the answer each must get.

A rule turns (world, use) into cases; the last case is always the rightful caller (the owner, or
the holder of the route's own credential), whose answer is the entry's `ok` status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.security.matrix_world import Use, World

NO_KEY = "Authentication credentials were not provided."
BAD_KEY = "Personal API key found in request Authorization header is invalid."
NO_PROJECT_ACCESS = "You don't have access to the project."
NOT_PROJECT_ADMIN = "You don't have sufficient permissions in the project."
NOT_ORG_ADMIN = "Your organization access level is insufficient."
ORGANIZATION_NOT_FOUND = "Organization not found."
SCOPED_PROJECTS_ON_ORG = "API keys with scoped projects are only supported on project-based endpoints."
SCOPE_OBJECTS = ("integration", "integration_credentials", "organization_integration", "proxy_record", "webhook")
BOGUS_KEY = {"Authorization": "Bearer phx_" + "x" * 48}


@dataclass(frozen=True)
class Expect:
    status: int
    detail: str | None = None
    error_type: str | None = None
    page: bool = False  # a browser page: errors are HTML pages, not the JSON envelope

    def problem(self, response: httpx.Response) -> str | None:
        got = response.status_code
        if got >= 500:
            return f"server error {got}: {response.text[:200]}"
        if got != self.status:
            return f"expected {self.status}, got {got}: {response.text[:200]}"
        if got < 400:
            return None
        if response.headers.get("patchbay-proxy") == "upstream":
            return None  # the provider's own answer, passed on by the proxy: not Patchbay's envelope
        if self.page:
            if not response.headers.get("content-type", "").startswith("text/html"):
                return f"error page is not HTML: {response.text[:200]}"
            return None
        try:
            body = response.json()
        except ValueError:
            return f"error answer is not JSON: {response.text[:200]}"
        if not isinstance(body, dict) or set(body) != {"type", "code", "detail", "attr"}:
            return f"error answer is not the envelope: {response.text[:200]}"
        if self.detail is not None and body["detail"] != self.detail:
            return f"expected detail {self.detail!r}, got {body['detail']!r}"
        if self.error_type is not None and body["type"] != self.error_type:
            return f"expected type {self.error_type!r}, got {body['type']!r}"
        return None


def denied(detail: str) -> Expect:
    return Expect(403, detail, "authentication_error")


UNAUTHENTICATED = Expect(401, NO_KEY, "authentication_error")
BAD_CREDENTIALS = Expect(401, BAD_KEY, "authentication_error")


@dataclass
class Case:
    caller: str
    headers: dict[str, str]
    expect: Expect
    query: dict[str, Any] | None = None  # None: the entry's query
    body: Any = None
    params: dict[str, str] | None = None  # path parameters other than the entry's (a forged token)
    content: bytes | None = None  # a body of the caller's own (a form with its session's CSRF token)


def missing_scope_key(scope: str) -> list[str]:
    """Every write scope of the other objects; of the route's own object, read when it needs write."""
    obj, _, action = scope.partition(":")
    granted = [f"{other}:write" for other in SCOPE_OBJECTS if other != obj]
    if action == "write":
        granted.append(f"{obj}:read")
    return granted


@dataclass(frozen=True)
class ProjectRule:
    """`project_context(scope)`: membership of the project's organization; `admin` is the 403 a
    plain member gets on an admin-only action (None: members may)."""

    scope: str
    admin: str | None = None

    def __str__(self) -> str:
        return f"project {self.scope}" + (" admin" if self.admin else "")

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        project = world.owner.project
        return [
            Case("no key", {}, UNAUTHENTICATED),
            Case("bad key", BOGUS_KEY, BAD_CREDENTIALS),
            Case("another organization's user", world.stranger.headers, denied(NO_PROJECT_ACCESS)),
            Case(
                "key scoped to another project",
                await world.owner_key(scoped_projects=[world.sibling_project.id]),
                denied(f"API key does not have access to the requested project: ID {project.id}."),
            ),
            Case(
                "key scoped to another organization",
                await world.owner_key(scoped_organizations=[str(world.second_organization.id)]),
                denied(
                    f"API key does not have access to the requested organization: ID {project.organization_id}."
                ),
            ),
            Case(
                f"key without {self.scope}",
                await world.owner_key(missing_scope_key(self.scope)),
                denied(f"API key missing required scope '{self.scope}'"),
            ),
            Case("member", world.member.headers, denied(self.admin) if self.admin else Expect(ok)),
            Case("owner", world.owner.headers, Expect(ok)),
        ]


@dataclass(frozen=True)
class ExplicitScopeRule:
    """`project_context(scope)` for a scope that `*` does not grant (auth.scopes.EXPLICIT_OBJECTS):
    every caller but the ones without a key holds a key naming `scope`, except the `*` key, which
    must be refused like a key without it. `admin`: the 403 a plain member gets."""

    scope: str
    admin: str | None = None

    def __str__(self) -> str:
        return f"project {self.scope} (explicit)" + (" admin" if self.admin else "")

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        project = world.owner.project
        missing = denied(f"API key missing required scope '{self.scope}'")
        return [
            Case("no key", {}, UNAUTHENTICATED),
            Case("bad key", BOGUS_KEY, BAD_CREDENTIALS),
            Case(
                "another organization's user",
                await world.scoped_key(world.stranger, [self.scope]),
                denied(NO_PROJECT_ACCESS),
            ),
            Case(
                "key scoped to another project",
                await world.scoped_key(world.explicit_owner, [self.scope], [world.sibling_project.id]),
                denied(f"API key does not have access to the requested project: ID {project.id}."),
            ),
            Case("the owner's * key", world.owner.headers, missing),
            Case(
                f"key without {self.scope}",
                await world.scoped_key(world.explicit_owner, missing_scope_key(self.scope)),
                missing,
            ),
            Case(
                "member",
                await world.scoped_key(world.member, [self.scope]),
                denied(self.admin) if self.admin else Expect(ok),
            ),
            Case("owner", await world.scoped_key(world.explicit_owner, [self.scope]), Expect(ok)),
        ]


@dataclass(frozen=True)
class OrganizationRule:
    """`organization_context(scope)`: a caller outside the organization learns nothing (404)."""

    scope: str
    admin: str | None = None

    def __str__(self) -> str:
        return f"organization {self.scope}" + (" admin" if self.admin else "")

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        organization_id = world.owner.organization.id
        return [
            Case("no key", {}, UNAUTHENTICATED),
            Case("bad key", BOGUS_KEY, BAD_CREDENTIALS),
            Case(
                "another organization's user",
                world.stranger.headers,
                Expect(404, ORGANIZATION_NOT_FOUND, "invalid_request"),
            ),
            Case(
                "key scoped to a project",
                await world.owner_key(scoped_projects=[world.owner.project.id]),
                denied(SCOPED_PROJECTS_ON_ORG),
            ),
            Case(
                "key scoped to another organization",
                await world.owner_key(scoped_organizations=[str(world.second_organization.id)]),
                denied(f"API key does not have access to the requested organization: ID {organization_id}."),
            ),
            Case(
                f"key without {self.scope}",
                await world.owner_key(missing_scope_key(self.scope)),
                denied(f"API key missing required scope '{self.scope}'"),
            ),
            Case("member", world.member.headers, denied(self.admin) if self.admin else Expect(ok)),
            Case("owner", world.owner.headers, Expect(ok)),
        ]


@dataclass(frozen=True)
class LinkRule:
    """POST /api/vercel/connect/complete/: any key with `scope`, then admin of the organization the
    body names (the path carries no tenant)."""

    scope: str = "organization_integration:write"

    def __str__(self) -> str:
        return f"api key {self.scope}, admin of the body's organization"

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        organization_id, project_id = use.body["organization_id"], use.body["team_id"]
        return [
            Case("no key", {}, UNAUTHENTICATED),
            Case("bad key", BOGUS_KEY, BAD_CREDENTIALS),
            Case(
                "another organization's user",
                world.stranger.headers,
                denied("You are not a member of this organization."),
            ),
            Case(
                "key scoped to another project",
                await world.owner_key(scoped_projects=[world.sibling_project.id]),
                denied(f"API key does not have access to the requested project: ID {project_id}."),
            ),
            Case(
                "key scoped to another organization",
                await world.owner_key(scoped_organizations=[str(world.second_organization.id)]),
                denied(f"API key does not have access to the requested organization: ID {organization_id}."),
            ),
            Case(
                f"key without {self.scope}",
                await world.owner_key(missing_scope_key(self.scope)),
                denied(f"API key missing required scope '{self.scope}'"),
            ),
            Case(
                "member",
                world.member.headers,
                denied("You must be an admin or owner to link this organization."),
            ),
            Case("owner", world.owner.headers, Expect(ok)),
        ]


@dataclass(frozen=True)
class OwnCredential:
    """A route outside the API keys: `public`, or protected by what `name` says. `refusals` are
    the requests without the credential (caller, headers, query, status)."""

    name: str
    refusals: tuple[tuple[str, dict[str, str], dict[str, Any] | None, int], ...] = field(default=())

    def __str__(self) -> str:
        return self.name

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        cases = [
            Case(caller, headers, Expect(status), query=query)
            for caller, headers, query, status in self.refusals
        ]
        return [*cases, Case(f"holder of the {self.name} credential", use.credential, Expect(ok))]


PUBLIC = OwnCredential(
    "public", (("no credential", {}, None, 200), ("a bad key (ignored)", BOGUS_KEY, None, 200))
)
OAUTH_STATE = OwnCredential(
    "oauth-state",
    (
        ("no state", {}, {}, 400),
        ("forged state", {}, {"code": "forged", "state": "forged-state"}, 400),
        ("an API key instead of a state", BOGUS_KEY, {"code": "forged"}, 400),
    ),
)
VERCEL_CODE = OwnCredential(
    "vercel-code",
    (("no code", {}, {}, 400), ("an API key instead of a code", BOGUS_KEY, {}, 400)),
)
VERCEL_SIGNATURE = OwnCredential(
    "vercel-signature",
    (
        ("no signature", {}, None, 401),
        ("wrong signature", {"x-vercel-signature": "0" * 40}, None, 401),
        ("an API key instead of a signature", BOGUS_KEY, None, 401),
    ),
)


@dataclass(frozen=True)
class VercelOidc:
    """Vercel's marketplace OIDC token, bound to the installation of the URL."""

    auth: str  # the token kind the rightful caller sends: "user" or "system"
    admin_action: str | None = None  # user tokens need the ADMIN role for this action

    def __str__(self) -> str:
        return f"vercel-oidc ({self.auth})"

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        installation_id = use.params["installation_id"]
        other = world.oidc("icfg_" + "o" * 24, auth=self.auth)
        cases = [
            Case("no token", {}, Expect(401)),
            Case("an API key instead of a token", world.owner.headers, Expect(401)),
            Case("token of another installation", other, denied("Installation ID mismatch")),
        ]
        if self.admin_action:
            member = world.oidc(installation_id, auth="user", user_role="USER")
            detail = f"Action '{self.admin_action}' requires ADMIN role. Current role: USER"
            cases.append(Case("Vercel user without ADMIN", member, denied(detail)))
        return [*cases, Case("holder of the vercel-oidc credential", use.credential, Expect(ok))]


@dataclass(frozen=True)
class ConnectToken:
    """A connect page: the `pcs_` token in the path is the capability (no key). A forged token is
    refused whoever sends it; `form` routes also need the CSRF cookie, which `use.credential` holds."""

    form: bool = False

    def __str__(self) -> str:
        return "connect-token+csrf" if self.form else "connect-token"

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        forged = {**use.params, "token": "pcs_" + "x" * 43}
        cases = [
            Case("a forged token", {}, Expect(404, page=True), params=forged),
            Case(
                "the owner's API key with a forged token",
                world.owner.headers,
                Expect(404, page=True),
                params=forged,
            ),
        ]
        if self.form:
            cases.append(
                Case("the form without its CSRF cookie", world.owner.headers, Expect(403, page=True))
            )
        return [*cases, Case("holder of the connect link", use.credential, Expect(ok))]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class ConsoleSession:
    """A console page: the signed-in browser's session cookie is the credential (API keys open
    nothing: no session → the sign-in page, 303). `form` routes also need the session's CSRF token.
    `stranger` is what a user of another organization gets, `member` what a plain member gets
    (None: the rightful answer); tenant pages refuse as the API does (403 project, 404 organization)."""

    stranger: int
    member: int | None = None
    form: bool = False

    def __str__(self) -> str:
        return "console-session+csrf" if self.form else "console-session"

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        fields = use.body if isinstance(use.body, dict) else {}

        # Signing out spends the session: for that route every caller signs in afresh.
        fresh = use.credential == {"fresh": "1"}

        async def caller(name: str, tenant: Any, expect: Expect) -> Case:
            cookie, token = await world.console_session(tenant, fresh=fresh)
            if not self.form:
                return Case(name, cookie, expect)
            body = urlencode({**fields, "csrf_token": token}, doseq=True).encode()
            return Case(name, {**cookie, **FORM}, expect, content=body)

        no_token = urlencode(fields, doseq=True).encode()
        cases = [
            Case("no session", FORM, Expect(303), content=no_token),
            Case(
                "a forged session cookie",
                {"Cookie": "pb_console=" + "x" * 43, **FORM},
                Expect(303),
                content=no_token,
            ),
            Case(
                "the owner's API key, no session",
                {**world.owner.headers, **FORM},
                Expect(303),
                content=no_token,
            ),
        ]
        if self.form:
            cookie, _ = await world.console_session(world.owner)
            cases.append(
                Case(
                    "the owner's session without a CSRF token",
                    {**cookie, **FORM},
                    Expect(403, page=True),
                    content=no_token,
                )
            )
        cases.append(
            await caller("another organization's user", world.stranger, Expect(self.stranger, page=True))
        )
        member = self.member if self.member is not None else ok
        cases.append(await caller("member", world.member, Expect(member, page=True)))
        cases.append(await caller("owner", world.owner, Expect(ok, page=True)))
        return cases


@dataclass(frozen=True)
class ConsoleSignIn:
    """POST /console/sign-in: the sign-in page's CSRF cookie and token, then the right password."""

    def __str__(self) -> str:
        return "console-sign-in"

    async def cases(self, world: World, use: Use, ok: int) -> list[Case]:
        form, cookie = use.body, use.credential
        full = urlencode(form).encode()
        return [
            Case("no CSRF token", {**cookie, **FORM}, Expect(403, page=True),
                 content=urlencode({k: v for k, v in form.items() if k != "csrf_token"}).encode()),
            Case("no CSRF cookie", FORM, Expect(403, page=True), content=full),
            Case("a wrong password", {**cookie, **FORM}, Expect(400, page=True),
                 content=urlencode({**form, "password": "not the password at all"}).encode()),
            Case("holder of the password", {**cookie, **FORM}, Expect(ok), content=full),
        ]  # fmt: skip
