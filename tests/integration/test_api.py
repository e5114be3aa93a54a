"""Project integrations API: shapes, errors, pagination, upsert, permissions (issue 2)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete

from patchbay.models import MembershipLevel, Project, User
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
PROJECT_NOT_FOUND = {**NOT_FOUND, "detail": "Project not found."}
USER_FIELDS = {
    "id", "uuid", "distinct_id", "first_name", "last_name", "email", "is_email_verified", "hedgehog_config",
    "role_at_organization",
}  # fmt: skip

NOT_CONFIGURED = "Kind not configured. Set PATCHBAY_HUBSPOT_CLIENT_ID and PATCHBAY_HUBSPOT_CLIENT_SECRET on the Patchbay server."


async def test_integration_object_shape(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    row = await factory.integration(
        tenant.project,
        "databricks",
        "db.example.com",
        {"server_hostname": "db.example.com"},
        {"client_secret": "s"},
        tenant.user,
    )
    body = (await client.get(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)).json()
    assert list(body) == [
        "id", "kind", "config", "created_at", "created_by", "errors", "display_name",
        "files_write_requestable", "installation_shared", "installation_status", "health",
    ]  # fmt: skip
    # Patchbay's own field comes last; a row made outside the API was never verified.
    assert body["health"] == {
        "status": "unknown", "detail": None, "expires_at": None, "last_refreshed_at": None,
        "last_checked_at": None,
    }  # fmt: skip
    assert (body["files_write_requestable"], body["installation_shared"], body["installation_status"]) == (
        False, None, None,
    )  # fmt: skip
    assert body["config"] == {"server_hostname": "db.example.com"}
    assert set(body["created_by"]) == USER_FIELDS
    assert body["created_by"]["email"] == tenant.user.email
    assert body["created_at"].endswith("Z")
    assert body["display_name"] == "db.example.com"
    assert body["errors"] == ""


async def test_environments_alias_and_current(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    row = await factory.integration(tenant.project, "twilio", "AC1")
    for base in (
        f"/api/environments/{tenant.project.id}",
        "/api/projects/@current",
        "/api/environments/@current",
    ):
        response = await client.get(f"{base}/integrations", headers=tenant.headers)
        assert response.status_code == 200, base
        assert [r["id"] for r in response.json()["results"]] == [row.id]


@pytest.mark.parametrize("project", ["999999", "abc", "-1", "0", "99999999999999999999"])
async def test_unknown_project_is_404(client: httpx.AsyncClient, tenant: Tenant, project: str) -> None:
    response = await client.get(f"/api/projects/{project}/integrations/", headers=tenant.headers)
    assert response.status_code == 404
    assert response.json() == PROJECT_NOT_FOUND


async def test_project_of_another_organization_is_403(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    response = await client.get(f"{other.base}/integrations/", headers=tenant.headers)
    assert response.status_code == 403
    assert response.json() == {
        "type": "authentication_error", "code": "permission_denied",
        "detail": "You don't have access to the project.", "attr": None,
    }  # fmt: skip


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_methods_not_allowed(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, method: str
) -> None:
    row = await factory.integration(tenant.project)
    response = await client.request(
        method, f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers, json={}
    )
    assert response.status_code == 405
    assert response.json() == {
        "type": "invalid_request", "code": "method_not_allowed", "detail": f'Method "{method}" not allowed.', "attr": None,
    }  # fmt: skip


async def test_unknown_route_and_id_are_enveloped_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for path in (
        "/api/nothing-here",
        f"{tenant.base}/integrations/123456/",
        f"{tenant.base}/integrations/abc/",
    ):
        response = await client.get(path, headers=tenant.headers)
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND


async def test_validation_errors_are_400_in_envelope(client: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/integrations/"
    missing = await client.post(url, json={"config": {}}, headers=tenant.headers)
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "kind",
    }
    bad_kind = await client.post(url, json={"kind": "myspace", "config": {}}, headers=tenant.headers)
    assert bad_kind.status_code == 400
    assert bad_kind.json() == {
        "type": "validation_error",
        "code": "invalid_choice",
        "detail": '"myspace" is not a valid choice.',
        "attr": "kind",
    }
    not_json = await client.post(
        url, content=b"{nope", headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["type"] == "invalid_request" and not_json.json()["code"] == "parse_error"
    list_body = await client.post(url, json=[1, 2], headers=tenant.headers)
    assert list_body.status_code == 400 and list_body.json()["type"] == "validation_error"
    bad_config = await client.post(url, json={"kind": "twilio", "config": [1]}, headers=tenant.headers)
    assert bad_config.status_code == 400 and bad_config.json()["attr"] == "config"


async def test_no_body_and_null_answer_as_drf_does(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """DRF reads a missing body as {} (the first required field is named) and refuses null by name."""
    url = f"{tenant.base}/integrations/"
    for headers in (tenant.headers, {**tenant.headers, "Content-Type": "application/json"}):
        empty = await client.post(url, headers=headers)
        assert empty.status_code == 400
        assert empty.json() == {
            "type": "validation_error", "code": "required", "detail": "This field is required.", "attr": "kind",
        }  # fmt: skip
    for body in ({"kind": None}, {"kind": "twilio", "config": None}):
        null = await client.post(url, json=body, headers=tenant.headers)
        assert null.status_code == 400
        assert null.json() == {
            "type": "validation_error",
            "code": "null",
            "detail": "This field may not be null.",
            "attr": "kind" if body["kind"] is None else "config",
        }
    # The same rule on another route's body.
    apply = await client.post(
        f"{tenant.base}/integrations/domain-connect/apply-url/", json={"integration_id": None, "context": None},
        headers=tenant.headers,
    )  # fmt: skip
    assert apply.status_code == 400 and apply.json()["code"] != "null"  # these two fields take null


async def test_kind_messages(client: httpx.AsyncClient, tenant: Tenant, make_settings) -> None:
    url = f"{tenant.base}/integrations/"
    deprecated = await client.post(
        url, json={"kind": "slack-posthog-code", "config": {}}, headers=tenant.headers
    )
    assert deprecated.json() == {
        "type": "validation_error", "code": "invalid_input",
        "detail": "This integration kind is deprecated and can no longer be created.", "attr": "kind",
    }  # fmt: skip
    unsupported = await client.post(
        url, json={"kind": "vercel", "config": {}}, headers=tenant.headers
    )
    assert unsupported.status_code == 400 and unsupported.json()["detail"] == "Kind not supported"


async def test_oauth_kind_without_credentials_is_not_configured(
    make_settings, database_url: str, factory: Factory
) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    settings = make_settings(
        kind_overrides={"PATCHBAY_HUBSPOT_CLIENT_ID": "", "PATCHBAY_HUBSPOT_CLIENT_SECRET": ""}
    )
    runtime = build_runtime(settings)
    tenant = await Factory(runtime).tenant()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, runtime)), base_url="http://testserver"
        ) as c:
            response = await c.post(
                f"{tenant.base}/integrations/",
                json={"kind": "hubspot", "config": {"code": "x"}},
                headers=tenant.headers,
            )
            assert response.status_code == 400
            assert response.json()["detail"] == NOT_CONFIGURED
            start = await c.get(
                f"{tenant.base}/integrations/authorize/?kind=hubspot&next=/x", headers=tenant.headers
            )
            assert start.status_code == 400 and start.json()["detail"] == NOT_CONFIGURED
    finally:
        await runtime.close()


async def test_list_ordering_and_kind_filter(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    first = await factory.integration(tenant.project, "twilio", "AC1")
    second = await factory.integration(tenant.project, "databricks", "h.example.com")
    third = await factory.integration(tenant.project, "twilio", "AC2")
    other_project = await factory.project(tenant.organization)
    await factory.integration(other_project, "twilio", "AC1")
    body = (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).json()
    assert [r["id"] for r in body["results"]] == [first.id, second.id, third.id]
    assert body["count"] == 3
    twilio = (await client.get(f"{tenant.base}/integrations/?kind=twilio", headers=tenant.headers)).json()
    assert [r["id"] for r in twilio["results"]] == [first.id, third.id]
    bad = await client.get(f"{tenant.base}/integrations/?kind=nope", headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["attr"] == "kind" and bad.json()["code"] == "invalid_choice"


async def test_pagination_edges(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    rows = [await factory.integration(tenant.project, "twilio", f"AC{i}") for i in range(5)]
    ids = [r.id for r in rows]
    base = f"{tenant.base}/integrations/"

    async def page(query: str) -> dict:
        response = await client.get(base + query, headers=tenant.headers)
        assert response.status_code == 200, query
        return response.json()

    two = await page("?limit=2")
    assert [r["id"] for r in two["results"]] == ids[:2] and two["count"] == 5
    assert two["next"] == f"http://testserver{tenant.base}/integrations/?limit=2&offset=2"
    assert two["previous"] is None
    middle = await page("?limit=2&offset=2")
    assert [r["id"] for r in middle["results"]] == ids[2:4]
    assert middle["previous"] == f"http://testserver{tenant.base}/integrations/?limit=2"
    last = await page("?limit=2&offset=4")
    assert last["next"] is None and [r["id"] for r in last["results"]] == ids[4:]
    assert last["previous"] == f"http://testserver{tenant.base}/integrations/?limit=2&offset=2"
    no_slash = (await client.get(f"{tenant.base}/integrations?limit=2", headers=tenant.headers)).json()
    assert no_slash["next"] == f"http://testserver{tenant.base}/integrations?limit=2&offset=2"
    for query in ("?limit=0", "?limit=-3", "?limit=abc", "?offset=-1", "?offset=xyz"):
        assert [r["id"] for r in (await page(query))["results"]] == ids, query
    huge = await page("?limit=100000")
    assert len(huge["results"]) == 5 and huge["next"] is None
    past = await page("?offset=50")
    assert past["results"] == [] and past["count"] == 5 and past["next"] is None
    kept = await page("?kind=twilio&limit=1")
    assert "kind=twilio" in kept["next"]


async def test_limit_is_capped_at_1000(client: httpx.AsyncClient, tenant: Tenant, runtime) -> None:
    from patchbay.models import Integration

    async with runtime.db.transaction() as session:
        session.add_all(
            Integration(
                project_id=tenant.project.id,
                kind="twilio",
                integration_id=f"AC{i}",
                config={},
                sensitive_config="",
                errors="",
            )
            for i in range(1005)
        )
    body = (await client.get(f"{tenant.base}/integrations/?limit=5000", headers=tenant.headers)).json()
    assert body["count"] == 1005 and len(body["results"]) == 1000
    assert body["next"].endswith("limit=1000&offset=1000")


async def test_create_is_an_upsert_that_keeps_the_row(
    client: httpx.AsyncClient, tenant: Tenant, sandbox, runtime
) -> None:
    from patchbay.integration.repository import IntegrationRepository
    from patchbay.providers.twilio import simulator as twilio

    sid = twilio.add_account(sandbox.state, auth_token="first-token")
    url = f"{tenant.base}/integrations/"
    first = await client.post(
        url,
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "first-token"}},
        headers=tenant.headers,
    )
    assert first.status_code == 201
    async with runtime.db.session() as session:
        row = await IntegrationRepository(session, tenant.project.id, tenant.user.id).get_model(first.json()["id"])
        assert row is not None
        row.errors = "TOKEN_REFRESH_FAILED"
        await session.commit()
    sandbox.state.provider_data("twilio")["accounts"][sid]["auth_token"] = "second-token"
    second = await client.post(
        url,
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "second-token"}},
        headers=tenant.headers,
    )
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["errors"] == ""
    async with runtime.db.session() as session:
        row = await IntegrationRepository(session, tenant.project.id, tenant.user.id).get_model(first.json()["id"])
        assert row is not None
        assert runtime.keyring.decrypt_json(row.sensitive_config) == {"auth_token": "second-token"}
    listed = (await client.get(url, headers=tenant.headers)).json()
    assert listed["count"] == 1


async def test_overwrite_needs_project_admin(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox, runtime
) -> None:
    from patchbay.providers.twilio import simulator as twilio

    sid = twilio.add_account(sandbox.state, auth_token="tok")
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    url = f"{tenant.base}/integrations/"
    payload = {"kind": "twilio", "config": {"account_sid": sid, "auth_token": "tok"}}
    created = await client.post(url, json=payload, headers=member.headers)
    assert created.status_code == 201, "any member may create"
    again = await client.post(url, json=payload, headers=member.headers)
    assert again.status_code == 403
    assert again.json()["detail"] == "Editing an existing integration requires project admin access."
    body = (await client.get(f"{url}{created.json()['id']}", headers=tenant.headers)).json()
    assert body["created_by"]["email"] == member.user.email, "a refused overwrite changes nothing"
    by_admin = await client.post(url, json=payload, headers=tenant.headers)
    assert by_admin.status_code == 201 and by_admin.json()["created_by"]["email"] == tenant.user.email


async def test_delete_needs_admin_or_creator(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    others = await factory.integration(tenant.project, "twilio", "AC1", created_by=tenant.user)
    own = await factory.integration(tenant.project, "twilio", "AC2", created_by=member.user)
    refused = await client.delete(f"{tenant.base}/integrations/{others.id}/", headers=member.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You don't have sufficient permissions in the project."
    assert (
        await client.get(f"{tenant.base}/integrations/{others.id}/", headers=tenant.headers)
    ).status_code == 200
    assert (
        await client.delete(f"{tenant.base}/integrations/{own.id}/", headers=member.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{tenant.base}/integrations/{others.id}/", headers=tenant.headers)
    ).status_code == 204


async def test_created_by_is_null_after_user_deleted(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime
) -> None:
    from sqlalchemy import delete

    from patchbay.models import User

    creator = await factory.user()
    row = await factory.integration(tenant.project, "twilio", "AC9", created_by=creator)
    async with runtime.db.transaction() as session:
        await session.execute(delete(User).where(User.id == creator.id))
    body = (await client.get(f"{tenant.base}/integrations/{row.id}", headers=tenant.headers)).json()
    assert body["created_by"] is None


@pytest.mark.parametrize("suffix", ["", "channels/", "email/"])
async def test_ids_past_the_column_are_404_not_500(
    client: httpx.AsyncClient, tenant: Tenant, suffix: str
) -> None:
    for pk in ("2147483648", "99999999999999999999"):
        response = await client.get(f"{tenant.base}/integrations/{pk}/{suffix}", headers=tenant.headers)
        assert response.status_code == 404, response.text
        assert response.json() == NOT_FOUND
    response = await client.delete(f"{tenant.base}/integrations/2147483648/", headers=tenant.headers)
    assert response.status_code == 404


async def test_offset_past_sixty_four_bits_is_an_empty_page(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    await factory.integration(tenant.project, "databricks", "db.example.com", {}, {}, tenant.user)
    response = await client.get(
        f"{tenant.base}/integrations/", params={"offset": str(2**64)}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == []
    assert body["next"] is None


async def test_a_deleted_integrations_id_is_never_handed_out_again(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    """create, delete, create: on SQLite without AUTOINCREMENT the second account got the first's id."""
    ids = []
    for _ in range(3):
        sid = twilio.add_account(sandbox.state, auth_token="t")
        created = await client.post(
            f"{tenant.base}/integrations/",
            json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "t"}},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        deleted = await client.delete(f"{tenant.base}/integrations/{ids[-1]}/", headers=tenant.headers)
        assert deleted.status_code == 204
    assert ids == sorted(set(ids)), ids
    stale = await client.get(f"{tenant.base}/integrations/{ids[0]}/", headers=tenant.headers)
    assert stale.status_code == 404


async def test_deleted_project_and_user_ids_are_not_reused(factory: Factory, runtime: Runtime) -> None:
    owner = await factory.user()
    organization = await factory.organization(owner)
    project = await factory.project(organization)
    user = await factory.user()
    async with runtime.db.transaction() as session:
        await session.execute(delete(Project).where(Project.id == project.id))
        await session.execute(delete(User).where(User.id == user.id))
    assert (await factory.project(organization)).id > project.id
    assert (await factory.user()).id > user.id


async def test_slack_integrations_say_files_write_is_requestable(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    """Patchbay's Slack app asks for files:write (PostHog's newest scope list), so Slack rows say so."""
    row = await factory.integration(tenant.project, "slack", "T1", {"team": {"id": "T1"}}, {"access_token": "x"})
    listed = (await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).json()["results"]
    retrieved = (await client.get(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)).json()
    for body in (listed[0], retrieved):
        assert body["files_write_requestable"] is True
        assert body["installation_shared"] is None and body["installation_status"] is None


async def test_the_list_and_the_create_are_served_lean(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """The hot routes skip FastAPI's per-request dependency solving (kit.lean_route); the others,
    whose `id` FastAPI validates, keep it."""
    from patchbay.integration.api import router

    listed = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    created = await client.post(
        f"{tenant.base}/integrations/",
        json={
            "kind": "databricks",
            "config": {"server_hostname": "8.8.4.4", "client_id": "a", "client_secret": "b"},
        },
        headers=tenant.headers,
    )
    assert (listed.status_code, created.status_code) == (200, 201), created.text
    lean = {route.name: route.lean for route in router.routes}  # type: ignore[attr-defined]
    assert lean == {
        "integrations_list": True,
        "integrations_create": True,
        "integrations_retrieve": False,
        "integrations_destroy": False,
    }
