"""GitHub's other resource routes against the sandbox's GitHub: `github_branches`, `github_teams` and
`POST github_repos/refresh` (shapes, cache then refresh, provider down, another project, another kind)."""

from __future__ import annotations

import time

import httpx
import pytest

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.provider_resources.service import open_resources
from patchbay.providers.github import resources
from patchbay.providers.github import simulator as github_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import row
from tests.provider_resources.helpers import browser_context
from tests.support.factory import Factory, Tenant


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def installed(
    factory: Factory,
    tenant: Tenant,
    sandbox: SandboxServer,
    login: str = "acme",
    repositories: list[str] | None = None,
    account_type: str = "Organization",
) -> Integration:
    """A GitHub row whose installation token the simulator knows (no install flow needed)."""
    installation_id = github_sim.add_installation(
        sandbox.state, login, account_type=account_type, repositories=repositories
    )
    token, _ = sandbox.state.issue_tokens(
        "github", "github", {"installation_id": installation_id}, expires=False, prefix="ghs"
    )
    config = {
        "installation_id": installation_id,
        "expires_in": 3600,
        "refreshed_at": int(time.time()),
        "account": {"type": account_type, "name": login},
    }
    return await factory.integration(
        tenant.project, "github", installation_id, config, {"access_token": token}
    )


async def test_branches_default_first_searchable_paged_and_cached(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox, repositories=["web", "api"])
    github_sim.set_branches(
        sandbox.state, "acme/web", ["feature-a", "develop", "trunk", "feature-b"], "trunk"
    )
    github_sim.set_page_size(sandbox.state, 2)
    url = f"{tenant.base}/integrations/{integration.id}/github_branches/"

    listed = await client.get(url, params={"repo": "acme/web"}, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "branches": ["trunk", "develop", "feature-a", "feature-b"],
        "default_branch": "trunk",
        "has_more": False,
    }
    assert sandbox.state.count_calls("github", "/repos/acme/web/branches") == 2  # two pages (Link)

    found = await client.get(
        url, params={"repo": "acme/web", "search": "FEATURE", "limit": 1}, headers=tenant.headers
    )
    assert found.json() == {"branches": ["feature-a"], "default_branch": "trunk", "has_more": True}
    # An API key reads through the cache, force_refresh or not.
    forced = await client.get(
        url, params={"repo": "acme/web", "force_refresh": "true"}, headers=tenant.headers
    )
    assert forced.status_code == 200
    assert sandbox.state.count_calls("github", "/repos/acme/web/branches") == 2

    other = (await client.get(url, params={"repo": "acme/api"}, headers=tenant.headers)).json()
    assert other == {"branches": ["main"], "default_branch": "main", "has_more": False}


@pytest.mark.parametrize("repo", ["acme", "acme/web/x", "../web", "acme/..", "acme/we b", "acme/web?x=1"])
async def test_branches_refuse_a_bad_repo_before_calling_github(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, repo: str
) -> None:
    integration = await installed(factory, tenant, sandbox)
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/github_branches/",
        params={"repo": repo},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "repo must be in owner/repo format"
    assert response.json()["attr"] == "repo"
    assert sandbox.state.count_calls("github", "/repos/") == 0


async def test_branches_of_a_repository_the_installation_cannot_reach(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{integration.id}/github_branches/"
    response = await client.get(url, params={"repo": "someone/else"}, headers=tenant.headers)
    assert response.status_code == 400
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    assert "GitHub" in response.json()["detail"]
    missing = await client.get(url, headers=tenant.headers)
    assert missing.status_code == 400 and missing.json()["attr"] == "repo"


async def test_teams_of_the_organization(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox, login="acme")
    backend = github_sim.add_team(sandbox.state, "acme", "backend", "Backend")
    github_sim.add_team(sandbox.state, "acme", "frontend", "Front End")
    github_sim.add_team(sandbox.state, "acme", "design", "Design")
    github_sim.add_team(sandbox.state, "other-org", "hidden", "Hidden")
    github_sim.set_page_size(sandbox.state, 2)
    url = f"{tenant.base}/integrations/{integration.id}/github_teams/"

    listed = await client.get(url, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    assert [t["slug"] for t in listed.json()["teams"]] == ["backend", "frontend", "design"]
    assert listed.json()["teams"][0] == {"id": backend, "slug": "backend", "name": "Backend"}
    assert listed.json()["has_more"] is False
    assert sandbox.state.count_calls("github", "/orgs/acme/teams") == 2

    found = (await client.get(url, params={"search": "end"}, headers=tenant.headers)).json()
    assert [t["slug"] for t in found["teams"]] == ["backend", "frontend"]
    page = (await client.get(url, params={"limit": 1, "offset": 1}, headers=tenant.headers)).json()
    assert [t["slug"] for t in page["teams"]] == ["frontend"] and page["has_more"] is True
    assert sandbox.state.count_calls("github", "/orgs/acme/teams") == 2  # cached


async def test_a_personal_account_has_no_teams(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox, login="octocat", account_type="User")
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/github_teams/", headers=tenant.headers
    )
    assert response.json() == {"teams": [], "has_more": False}
    assert sandbox.state.count_calls("github", "/teams") == 0


async def test_refresh_reads_the_repositories_again(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox, repositories=["web"])
    base = f"{tenant.base}/integrations/{integration.id}"
    first = await client.get(f"{base}/github_repos/", headers=tenant.headers)
    assert [r["name"] for r in first.json()["repositories"]] == ["web"]
    installation = github_sim.installation(sandbox.state, integration.integration_id or "")
    installation["repositories"].append(github_sim._repo("acme", "api"))  # noqa: SLF001 - seeding
    sandbox.state.provider_data("github")["installations"][integration.integration_id] = installation

    # Inside the cooldown the list just read is the answer.
    soon = await client.post(f"{base}/github_repos/refresh/", headers=tenant.headers)
    assert soon.status_code == 200, soon.text
    assert [r["name"] for r in soon.json()["repositories"]] == ["web"]
    assert soon.json()["installation_status"] == "connected"
    assert sandbox.state.count_calls("github", "/installation/repositories") == 1


async def test_refresh_after_the_cooldown_and_when_the_installation_is_gone(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    runtime: Runtime,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resources, "REFRESH_COOLDOWN_SECONDS", 0)
    integration = await installed(factory, tenant, sandbox, repositories=["web"])
    base = f"{tenant.base}/integrations/{integration.id}"
    assert (await client.get(f"{base}/github_repos/", headers=tenant.headers)).status_code == 200
    github_sim.set_page_size(sandbox.state, 1)
    installation = sandbox.state.provider_data("github")["installations"][integration.integration_id]
    installation["repositories"].append(github_sim._repo("acme", "api"))  # noqa: SLF001 - seeding

    refreshed = await client.post(f"{base}/github_repos/refresh/", headers=tenant.headers)
    assert refreshed.status_code == 200, refreshed.text
    assert [r["name"] for r in refreshed.json()["repositories"]] == ["web", "api"]
    assert refreshed.json()["installation_status"] == "connected"
    listed = await client.get(f"{base}/github_repos/", headers=tenant.headers)
    assert [r["name"] for r in listed.json()["repositories"]] == ["web", "api"]  # the cache was replaced

    # GitHub no longer lets the installation in: the last list, marked unavailable, not a failure.
    sandbox.state.inject("github", "401", count=10, path_contains="/installation/repositories")
    gone = await client.post(f"{base}/github_repos/refresh/", headers=tenant.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json() == {
        "repositories": listed.json()["repositories"],
        "installation_status": "unavailable",
    }
    assert (await row(runtime, integration.id)).errors == "TOKEN_REFRESH_FAILED"
    body = (await client.get(f"{base}/", headers=tenant.headers)).json()
    assert body["installation_status"] == "unavailable"


async def test_refresh_needs_write_and_fails_in_the_envelope(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{integration.id}/github_repos/refresh/"
    reader = await factory.key(tenant.user, scopes=["integration:read"])
    refused = await client.post(url, headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and "integration:write" in refused.json()["detail"]

    sandbox.state.inject("github", "500", count=10, path_contains="/installation/repositories")
    down = await client.post(url, headers=tenant.headers)
    assert down.status_code == 502
    assert set(down.json()) == {"type", "code", "detail", "attr"}


@pytest.mark.parametrize(
    ("method", "path", "query", "contains"),
    [
        ("GET", "github_branches", {"repo": "acme/web"}, "/branches"),
        ("GET", "github_teams", {}, "/teams"),
    ],
)
async def test_provider_down_and_refused(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    runtime: Runtime,
    sandbox: SandboxServer,
    method: str,
    path: str,
    query: dict[str, str],
    contains: str,
) -> None:
    sandbox.state.timeout_seconds = 3.0
    for fault, status in (("500", 502), ("timeout", 503)):
        integration = await installed(factory, tenant, sandbox, repositories=["web"])
        sandbox.state.inject("github", fault, count=10, path_contains=contains)
        response = await client.get(
            f"{tenant.base}/integrations/{integration.id}/{path}/", params=query, headers=tenant.headers
        )
        assert response.status_code == status, (fault, response.text)
        assert set(response.json()) == {"type", "code", "detail", "attr"}
        sandbox.state.clear_faults("github")
    integration = await installed(factory, tenant, sandbox, repositories=["web"])
    sandbox.state.inject("github", "401", count=10, path_contains=contains)
    refused = await client.get(
        f"{tenant.base}/integrations/{integration.id}/{path}/", params=query, headers=tenant.headers
    )
    assert refused.status_code == 400 and "reconnect" in refused.json()["detail"]
    assert (await row(runtime, integration.id)).errors == "TOKEN_REFRESH_FAILED"


@pytest.mark.parametrize(
    ("method", "path", "query", "detail"),
    [
        (
            "GET",
            "github_branches",
            {"repo": "acme/web"},
            "github_branches endpoint is only supported for GitHub integrations",
        ),
        ("GET", "github_teams", {}, "github_teams endpoint is only supported for GitHub integrations"),
        (
            "POST",
            "github_repos/refresh",
            {},
            "refresh_github_repos endpoint is only supported for GitHub integrations",
        ),
    ],
)
async def test_another_kind_and_another_project(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    method: str,
    path: str,
    query: dict[str, str],
    detail: str,
) -> None:
    twilio = await factory.integration(tenant.project, "twilio")
    wrong = await client.request(
        method, f"{tenant.base}/integrations/{twilio.id}/{path}/", params=query, headers=tenant.headers
    )
    assert wrong.status_code == 400 and wrong.json()["detail"] == detail

    stranger = await factory.tenant()
    theirs = await installed(factory, stranger, sandbox)
    hidden = await client.request(
        method, f"{tenant.base}/integrations/{theirs.id}/{path}/", params=query, headers=tenant.headers
    )
    assert hidden.status_code == 404
    assert sandbox.state.count_calls("github", "/repos/") + sandbox.state.count_calls("github", "/teams") == 0


async def test_a_signed_in_browser_reads_branches_and_teams_again(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    integration = await installed(factory, tenant, sandbox, repositories=["web"])
    github_sim.add_team(sandbox.state, "acme", "backend")
    base = f"{tenant.base}/integrations/{integration.id}"
    await client.get(f"{base}/github_branches/", params={"repo": "acme/web"}, headers=tenant.headers)
    await client.get(f"{base}/github_teams/", headers=tenant.headers)
    github_sim.set_branches(sandbox.state, "acme/web", ["main", "new"])
    github_sim.add_team(sandbox.state, "acme", "new-team")

    async with browser_context(runtime, tenant) as ctx:
        session = await open_resources(ctx, integration.id)
        branches = await resources.github_branches(
            session, repo="acme/web", search="", limit=100, offset=0, force_refresh=True
        )
        teams = await resources.github_teams(session, search="", limit=100, offset=0, force_refresh=True)
    assert branches["branches"] == ["main", "new"]
    assert [t["slug"] for t in teams["teams"]] == ["backend", "new-team"]
    assert sandbox.state.count_calls("github", "/repos/acme/web/branches") == 2
    assert sandbox.state.count_calls("github", "/orgs/acme/teams") == 2
    # What the browser read is what an API key now reads from the cache.
    keyed = await client.get(f"{base}/github_branches/", params={"repo": "acme/web"}, headers=tenant.headers)
    assert keyed.json()["branches"] == ["main", "new"]
