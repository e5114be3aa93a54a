"""The tenants and objects the permission matrix sends its requests about, built through the real
services (tests.support.factory) and the sandbox providers.

`owner` owns organization A and its project; every other caller is measured against them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import orjson
from sqlalchemy import select

from patchbay.auth.keys import hash_key_value
from patchbay.console import csrf as console_csrf
from patchbay.console import sessions as console_sessions
from patchbay.models import MembershipLevel, Organization, PersonalAPIKey, Project, ProxyRecord
from patchbay.providers.anthropic import simulator as anthropic_sim
from patchbay.providers.asana import simulator as asana_sim
from patchbay.providers.clickup import simulator_api as clickup_api
from patchbay.providers.github import simulator as github_sim
from patchbay.providers.google_ads import simulator as ads_sim
from patchbay.providers.jira import simulator as jira_sim
from patchbay.providers.linkedin import simulator as linkedin_sim
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio
from patchbay.providers.vercel import simulator as vercel_sim
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import consent
from tests.provider_resources.helpers import clickup_integration, linear_integration, slack_integration
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import org_integration

_serial = itertools.count(1)
CONSOLE_PASSWORD = "matrix console password"
VERCEL_CALLBACK = "http://testserver/connect/vercel/callback"


@dataclass
class Use:
    """What one entry's requests need: path parameters, query, body, and the route's own credential
    (OIDC token, signature, state) where it has one."""

    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    content: bytes | None = None
    credential: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    client: httpx.AsyncClient
    factory: Factory
    sandbox: SandboxServer
    owner: Tenant
    member: Tenant
    stranger: Tenant  # owner of organization B
    sibling_project: Project  # a second project of organization A
    second_organization: Organization  # another organization the owner owns
    # A second owner of organization A holds the keys with narrowed scopes (one user may hold only
    # ten keys; the owner holds the scoped-project and scoped-organization ones).
    co_owner: Tenant
    # A third owner holds the keys naming explicit-only scopes (integration_credentials:read).
    explicit_owner: Tenant
    _keys: dict[tuple[Any, ...], dict[str, str]] = field(default_factory=dict)
    _console: dict[int, tuple[dict[str, str], str]] = field(default_factory=dict)
    _shared: dict[str, Use] = field(default_factory=dict)

    @classmethod
    async def build(cls, client: httpx.AsyncClient, factory: Factory, sandbox: SandboxServer) -> World:
        owner = await factory.tenant()
        return cls(
            client=client,
            factory=factory,
            sandbox=sandbox,
            owner=owner,
            member=await factory.member_of(owner, MembershipLevel.MEMBER),
            stranger=await factory.tenant(),
            sibling_project=await factory.project(owner.organization),
            second_organization=await factory.organization(owner.user),
            co_owner=await factory.member_of(owner, MembershipLevel.OWNER),
            explicit_owner=await factory.member_of(owner, MembershipLevel.OWNER),
        )

    async def owner_key(
        self,
        scopes: list[str] | None = None,
        *,
        scoped_projects: list[int] | None = None,
        scoped_organizations: list[str] | None = None,
    ) -> dict[str, str]:
        """Headers of another key of the owner, or with narrowed `scopes` of the co-owner (made once
        per combination)."""
        marker = (tuple(scopes or ["*"]), tuple(scoped_projects or ()), tuple(scoped_organizations or ()))
        if marker not in self._keys:
            value = await self.factory.key(
                self.co_owner.user if scopes is not None else self.owner.user,
                scopes,
                scoped_projects=scoped_projects,
                scoped_organizations=scoped_organizations,
            )
            self._keys[marker] = {"Authorization": f"Bearer {value}"}
        return self._keys[marker]

    async def scoped_key(
        self, who: Tenant, scopes: list[str], scoped_projects: list[int] | None = None
    ) -> dict[str, str]:
        """Headers of a key of `who` with `scopes` (made once per combination: a user may hold ten
        keys)."""
        marker = (who.user.id, tuple(scopes), tuple(scoped_projects or ()))
        if marker not in self._keys:
            value = await self.factory.key(who.user, scopes, scoped_projects=scoped_projects)
            self._keys[marker] = {"Authorization": f"Bearer {value}"}  # type: ignore[index]
        return self._keys[marker]  # type: ignore[index]

    async def console_session(self, tenant: Tenant, *, fresh: bool = False) -> tuple[dict[str, str], str]:
        """(Cookie header, CSRF token) of a console session of the tenant's user, signed in through
        the console's service (made once per user, or anew when `fresh`)."""
        user_id = tenant.user.id
        if fresh or user_id not in self._console:
            if user_id not in self._console:
                await console_sessions.set_password(self.runtime, tenant.user.email, CONSOLE_PASSWORD)
            token = await console_sessions.sign_in(
                self.runtime, tenant.user.email, CONSOLE_PASSWORD, f"matrix-{user_id}", None
            )
            made = (
                {"Cookie": f"{console_sessions.COOKIE}={token}"},
                console_csrf.session_token(self.runtime, console_sessions.token_hash(token)),
            )
            if fresh:
                return made
            self._console[user_id] = made
        return self._console[user_id]

    def forget_console_cookies(self) -> None:
        for name in (console_sessions.COOKIE, console_csrf.SIGN_IN_COOKIE):
            self.client.cookies.delete(name)

    @property
    def runtime(self) -> Any:
        return self.factory.runtime

    # --- objects the routes act on (fresh for every entry: DELETE consumes its target) -------------

    async def use(self, name: str | None, *, shared: bool = False) -> Use:
        """A new `use_<name>`, or for reads (`shared`) the one made before."""
        if name is None:
            return Use()
        if shared and name in self._shared:
            return self._shared[name]
        made: Use = await getattr(self, f"use_{name}")()
        if shared:
            self._shared[name] = made
        return made

    async def use_twilio(self) -> Use:
        token = f"matrix-twilio-{next(_serial)}"
        sid = twilio.add_account(self.sandbox.state, auth_token=token)
        row = await self.factory.integration(
            self.owner.project, "twilio", sid, {"account_sid": sid}, {"auth_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id)})

    async def use_new_twilio(self) -> Use:
        token = f"matrix-twilio-{next(_serial)}"
        sid = twilio.add_account(self.sandbox.state, auth_token=token)
        return Use(body={"kind": "twilio", "config": {"account_sid": sid, "auth_token": token}})

    async def use_slack(self) -> Use:
        row, _ = await slack_integration(self.factory, self.sandbox, self.owner)
        return Use(params={"id": str(row.id)})

    async def use_github(self) -> Use:
        installation_id = github_sim.add_installation(self.sandbox.state, "matrix-org")
        token, _ = self.sandbox.state.issue_tokens(
            "github", "github", {"installation_id": installation_id}, expires=False, prefix="ghs"
        )
        config = {"installation_id": installation_id, "expires_in": 3600, "refreshed_at": int(time.time())}
        row = await self.factory.integration(
            self.owner.project, "github", installation_id, config, {"access_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id)})

    async def use_anthropic(self) -> Use:
        key = f"sk-ant-matrix-{next(_serial)}"
        anthropic_sim.add_key(self.sandbox.state, key)
        label = f"matrix-{next(_serial)}"
        row = await self.factory.integration(
            self.owner.project, "anthropic", label, {"workspace_label": label}, {"api_key": key}, self.owner.user
        )
        return Use(params={"id": str(row.id)})

    async def use_jira(self) -> Use:
        jira_sim.add_project(self.sandbox.state, "MAT", "Matrix")
        cloud_id = f"matrix-cloud-{next(_serial)}"
        token, _ = self.sandbox.state.issue_tokens("oauth", "jira", {"cloud_id": cloud_id}, expires=False)
        row = await self.factory.integration(
            self.owner.project, "jira", cloud_id, {"cloud_id": cloud_id}, {"access_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id)})

    async def use_linkedin_ads(self) -> Use:
        linkedin_sim.add_ad_account(self.sandbox.state, "Matrix")
        token, _ = self.sandbox.state.issue_tokens("oauth", "linkedin-ads", {}, expires=False)
        row = await self.factory.integration(
            self.owner.project, "linkedin-ads", None, {"sub": "m"}, {"access_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id)})

    async def use_google_ads(self) -> Use:
        ads_sim.add_account(self.sandbox.state, "4242", "4242", "Matrix")
        ads_sim.add_conversion_action(self.sandbox.state, "4242", "Sign-up")
        token, _ = self.sandbox.state.issue_tokens("google", "google-ads", {}, expires=False)
        row = await self.factory.integration(
            self.owner.project, "google-ads", None, {"sub": "g"}, {"access_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id)})
    async def use_slack_proxy(self) -> Use:
        team = f"T0MATRIX{next(_serial)}"
        slack_api.seed_workspace(self.sandbox.state, team)
        token = slack_api.issue_token(self.sandbox.state, team_id=team)
        row = await self.factory.integration(
            self.owner.project, "slack", team, {"team": {"id": team}}, {"access_token": token}, self.owner.user
        )
        return Use(params={"id": str(row.id), "path": "auth.test"})

    async def use_clickup(self) -> Use:
        workspace = clickup_api.add_workspace(self.sandbox.state, "Matrix", workspace_id="9001")
        clickup_api.add_space(self.sandbox.state, workspace, "Engineering", space_id="790")
        row, _ = await clickup_integration(self.factory, self.sandbox, self.owner)
        return Use(params={"id": str(row.id)})

    async def use_asana(self) -> Use:
        asana_sim.add_workspace(self.sandbox.state, "Matrix")
        token, _ = self.sandbox.state.issue_tokens("asana", "asana", {}, expires=False, prefix="asana")
        row = await self.factory.integration(
            self.owner.project,
            "asana",
            "1200",
            {"data": {"gid": "1200"}},
            {"access_token": token},
            self.owner.user,
        )
        return Use(params={"id": str(row.id)})

    async def use_linear(self) -> Use:
        row, _ = await linear_integration(self.factory, self.sandbox, self.owner)
        return Use(params={"id": str(row.id)})

    async def use_email(self) -> Use:
        email = f"sender{next(_serial)}@matrix-mail.example"
        config = {
            "email": email,
            "domain": "matrix-mail.example",
            "mail_from_subdomain": "feedback",
            "name": "Sender",
            "provider": "maildev",
            "verified": False,
        }
        row = await self.factory.integration(self.owner.project, "email", email, config, {}, self.owner.user)
        return Use(params={"id": str(row.id)}, body={"config": {"name": "Renamed"}})

    async def use_email_apply_url(self) -> Use:
        made = await self.use_email()
        return Use(body={"context": "email", "integration_id": int(made.params["id"])})

    async def use_org_integration(self) -> Use:
        installation_id = vercel_sim.new_installation_id()
        token = vercel_sim.add_installation(self.sandbox.state, installation_id)
        row = await org_integration(
            self.runtime,
            self.owner.organization,
            installation_id=installation_id,
            access_token=token,
            created_by=self.owner.user,
        )
        return Use(params={"integration_pk": str(row.id)}, body={"production": self.owner.project.id})

    async def use_proxy_record(self) -> Use:
        async with self.runtime.db.transaction() as session:
            row = ProxyRecord(
                organization_id=self.owner.organization.id,
                domain=f"ph{next(_serial)}.matrix-proxy-test.com",
                target_cname="abc.proxy.patchbay.dev",
                status="valid",
                created_by_id=self.owner.user.id,
            )
            session.add(row)
            await session.flush()
        return Use(params={"id": str(row.id)})

    async def use_new_proxy_record(self) -> Use:
        return Use(body={"domain": f"ph{next(_serial)}.matrix-proxy-test.com"})

    async def use_installation(self) -> Use:
        """An installation the marketplace created; the credential is Vercel's OIDC token for it."""
        installation_id = vercel_sim.new_installation_id()
        await org_integration(self.runtime, self.owner.organization, installation_id=installation_id)
        return Use(
            params={"installation_id": installation_id},
            body=installation_body(),
            credential=self.oidc(installation_id, auth="user"),
        )

    async def use_installation_system(self) -> Use:
        made = await self.use_installation()
        made.credential = self.oidc(made.params["installation_id"], auth="system")
        return made

    def oidc(self, installation_id: str, **claims: Any) -> dict[str, str]:
        token = vercel_sim.mint_oidc_token(self.sandbox.state, installation_id=installation_id, **claims)
        return {"Authorization": f"Bearer {token}", "X-Vercel-Auth": claims.get("auth", "user")}

    async def use_webhook(self) -> Use:
        body = orjson.dumps({"type": "deployment.created", "payload": {}})
        signature = hmac.new(vercel_sim.CLIENT_SECRET.encode(), body, hashlib.sha1).hexdigest()
        return Use(content=body, credential={"x-vercel-signature": signature})

    async def use_new_webhook(self) -> Use:
        return Use(body={"url": "http://127.0.0.1:9/matrix", "events": ["*"]})

    async def use_webhook_endpoint(self) -> Use:
        created = await self.client.post(
            f"{self.owner.base}/webhooks/",
            json={"url": "http://127.0.0.1:9/matrix", "events": ["*"]},
            headers=self.owner.headers,
        )
        assert created.status_code == 201, created.text
        return Use(params={"id": str(created.json()["id"])}, body={"description": "renamed"})

    async def use_webhook_delivery(self) -> Use:
        made = await self.use_webhook_endpoint()
        base = f"{self.owner.base}/webhooks/{made.params['id']}"
        assert (await self.client.post(f"{base}/test/", headers=self.owner.headers)).status_code == 202
        deliveries = (await self.client.get(f"{base}/deliveries/", headers=self.owner.headers)).json()
        return Use(params={**made.params, "delivery_id": str(deliveries["results"][0]["id"])})

    async def use_new_connect_session(self) -> Use:
        return Use(body={"kinds": ["twilio", "slack"], "next": "/done"})

    async def use_connect_asset(self) -> Use:
        return Use(params={"name": "connect.css"})

    async def _connect_token(self) -> str:
        created = await self.client.post(
            f"{self.owner.base}/connect_sessions/", json={"next": "/done"}, headers=self.owner.headers
        )
        assert created.status_code == 201, created.text
        return str(created.json()["token"])

    async def use_connect_page(self) -> Use:
        return Use(params={"token": await self._connect_token()})

    async def use_connect_oauth(self) -> Use:
        return Use(params={"token": await self._connect_token(), "kind": "slack"})

    async def use_connect_form(self) -> Use:
        """The Twilio form as the page's browser sends it: the form's CSRF token in the body, the
        page's CSRF cookie as the credential (kept out of the client's jar for the refusals)."""
        token = await self._connect_token()
        page = await self.client.get(f"/connect/{token}")
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert found, page.text
        cookie = page.cookies["pb_connect_csrf"]
        self.client.cookies.clear()
        token_value = f"matrix-form-{next(_serial)}"
        sid = twilio.add_account(self.sandbox.state, auth_token=token_value)
        form = {"csrf_token": found.group(1), "account_sid": sid, "auth_token": token_value}
        return Use(
            params={"token": token, "kind": "twilio"},
            content=urlencode(form).encode(),
            credential={
                "Cookie": f"pb_connect_csrf={cookie}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    async def use_docs_asset(self) -> Use:
        return Use(params={"name": "swagger-ui.css"})

    async def use_oauth_callback(self) -> Use:
        given = await consent(self.client, self.owner, "slack")
        assert given.code is not None
        return Use(params={"kind": "slack"}, query={"code": given.code, "state": given.state})

    async def use_vercel_code(self) -> Use:
        installation_id = vercel_sim.new_installation_id()
        code = vercel_sim.issue_code(self.sandbox.state, installation_id, redirect_uri=VERCEL_CALLBACK)
        return Use(query={"code": code, "configurationId": installation_id})

    async def use_link_session(self) -> Use:
        made = await self.use_vercel_code()
        back = await self.client.get("/connect/vercel/callback", params=made.query)
        assert back.status_code == 302, back.text
        session = parse_qs(urlparse(back.headers["location"]).query)["session"][0]
        # A project of its own: organization A's project may carry a Vercel integration already.
        organization = await self.factory.organization(self.owner.user)
        await self.factory.member(organization, self.member.user, MembershipLevel.MEMBER)
        project = await self.factory.project(organization)
        return Use(
            body={"session": session, "organization_id": str(organization.id), "team_id": project.id},
        )

    # --- the console -----------------------------------------------------------------------------
    async def use_console_asset(self) -> Use:
        return Use(params={"name": "console.css"})

    async def use_console_sign_in(self) -> Use:
        await self.console_session(self.owner)  # the owner's password is set
        page = await self.client.get("/console/sign-in")
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert found, page.text
        cookie = page.cookies[console_csrf.SIGN_IN_COOKIE]
        self.forget_console_cookies()
        return Use(
            body={"csrf_token": found.group(1), "email": self.owner.user.email, "password": CONSOLE_PASSWORD},
            credential={"Cookie": f"{console_csrf.SIGN_IN_COOKIE}={cookie}"},
        )

    async def use_console_sign_out(self) -> Use:
        return Use(credential={"fresh": "1"})  # the owner signs out of a session of its own

    async def use_console_connect(self) -> Use:
        return Use(body={"kind": "twilio"})

    async def use_console_twilio(self) -> Use:
        return Use(params={"integration_id": (await self.use_twilio()).params["id"]})

    async def use_console_slack(self) -> Use:
        return Use(params={"integration_id": (await self.use("slack", shared=True)).params["id"]})

    async def use_console_new_key(self) -> Use:
        return Use(body={"label": "matrix", "scopes": ["integration:read"]})

    async def use_console_key(self) -> Use:
        value = await self.factory.key(self.owner.user)
        async with self.runtime.db.session() as session:
            key_id = await session.scalar(
                select(PersonalAPIKey.id).where(PersonalAPIKey.secure_value == hash_key_value(value))
            )
        return Use(params={"key_id": str(key_id)})

    async def use_console_new_webhook(self) -> Use:
        return Use(body={"url": "http://127.0.0.1:9/matrix", "events": ["ping"]})

    async def use_console_webhook(self) -> Use:
        return Use(params={"webhook_id": (await self.use_webhook_endpoint()).params["id"]})

    async def use_console_delivery(self) -> Use:
        made = await self.use_webhook_delivery()
        return Use(params={"webhook_id": made.params["id"], "delivery_id": made.params["delivery_id"]})

    async def use_console_email(self) -> Use:
        return Use(params={"sender_id": (await self.use_email()).params["id"]})

    async def use_console_org_integration(self) -> Use:
        made = await self.use_org_integration()
        return Use(params=made.params, body={"production": str(self.owner.project.id)})

    async def use_console_new_proxy_record(self) -> Use:
        return Use(body={"domain": f"ph{next(_serial)}.matrix-proxy-test.com"})

    async def use_console_proxy_record(self) -> Use:
        return Use(params={"record_id": (await self.use_proxy_record()).params["id"]})


def installation_body() -> dict[str, Any]:
    return {
        "scopes": ["read-write:integration-resource"],
        "acceptedPolicies": {"toc": "2024-02-28T10:00:00Z"},
        "credentials": {"access_token": "matrix-vercel-token", "token_type": "Bearer"},
        "account": {
            "name": "Matrix",
            "url": "https://vercel.com/matrix",
            "contact": {"email": "matrix@example.com", "name": "Matrix"},
        },
    }
