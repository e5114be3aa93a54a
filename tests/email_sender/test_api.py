"""Email senders (kind `email`) on moto's SES and the loopback DNS: creation rules, verify, PATCH,
and SES identity cleanup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from patchbay.models import MembershipLevel
from patchbay.sandbox.server import free_port
from tests.support.dns_server import DNSTestServer
from tests.support.domain_connect_env import create_sender, ses_identity_exists
from tests.support.factory import Factory, Tenant

ClientWith = Callable[..., Awaitable[httpx.AsyncClient]]


def error(detail: str, attr: str | None = None, code: str = "invalid_input") -> dict[str, Any]:
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


async def post_sender(client: httpx.AsyncClient, tenant: Tenant, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", headers=tenant.headers, json={"kind": "email", "config": config}
    )


async def test_create_ses_sender(
    client: httpx.AsyncClient, tenant: Tenant, moto_ses: str, dns_zone: DNSTestServer
) -> None:
    body = await create_sender(client, tenant, "User@SuccessDomain.COM", name="Test User")
    assert body["kind"] == "email"
    assert body["display_name"] == "user@successdomain.com"
    assert body["config"] == {
        "email": "user@successdomain.com",
        "domain": "successdomain.com",
        "mail_from_subdomain": "feedback",
        "name": "Test User",
        "provider": "ses",
        "verified": False,
    }
    assert ses_identity_exists(moto_ses, "successdomain.com")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"name": "x"}, error("This field is required.", "email", "required")),
        ({"email": "not-an-email", "name": "x"}, error("Enter a valid email address.", "email")),
        ({"email": "a@acme-x.com"}, error("This field is required.", "name", "required")),
        ({"email": "a@acme-x.com", "name": " "}, error("This field may not be blank.", "name", "blank")),
        (
            {"email": "a@acme-x.com", "name": "x", "provider": "mailjet"},
            error('"mailjet" is not a valid choice.', "provider", "invalid_choice"),
        ),
        # maildev is for servers that run on it only
        (
            {"email": "a@acme-x.com", "name": "x", "provider": "maildev"},
            error('"maildev" is not a valid choice.', "provider", "invalid_choice"),
        ),
        (
            {"email": "a@acme-x.com", "name": "x", "mail_from_subdomain": "a.b"},
            error(
                "MAIL FROM subdomain must be a single DNS label: letters, digits and hyphens, not starting or ending with a hyphen.",
                "mail_from_subdomain",
            ),
        ),
    ],
)
async def test_field_errors(
    client: httpx.AsyncClient, tenant: Tenant, moto_ses: str, config: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = await post_sender(client, tenant, config)
    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.parametrize(
    "email",
    [
        "a@gmail.com",
        "a@Gmail.com",
        "a@GMAIL.COM",
        "a@gMaIl.cOm",
        "a@Yahoo.com",
        "a@HOTMAIL.COM",
        "a@mailinator.com",
    ],
)
async def test_free_and_disposable_domains_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, moto_ses: str, email: str
) -> None:
    response = await post_sender(client, tenant, {"email": email, "name": "x"})
    assert response.status_code == 400
    domain = email.split("@")[1].lower()
    assert response.json() == error(f"Email domain {domain} is not supported. Please use a custom domain.")


async def test_domain_of_another_organization_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str
) -> None:
    await create_sender(client, tenant, "owner@example-owned.com")
    attacker = await factory.tenant()
    response = await post_sender(client, attacker, {"email": "attacker@Example-Owned.com", "name": "x"})
    assert response.status_code == 400
    assert "already exists in another organization" in response.json()["detail"]
    assert response.json()["detail"].startswith(
        "An email integration with domain example-owned.com already exists"
    )
    # Another project of the same organization may use it.
    project = await factory.project(tenant.organization)
    sibling = Tenant(tenant.user, tenant.organization, project, tenant.key, tenant.headers)
    body = await create_sender(client, sibling, "other@example-owned.com")
    assert body["config"]["domain"] == "example-owned.com"


async def test_mail_from_subdomain_is_shared_by_a_domains_senders(
    client: httpx.AsyncClient, tenant: Tenant, moto_ses: str
) -> None:
    first = await create_sender(client, tenant, "a@shared-mf.com", mail_from_subdomain="Bounce")
    assert first["config"]["mail_from_subdomain"] == "bounce"
    inherited = await create_sender(client, tenant, "b@shared-mf.com")
    assert inherited["config"]["mail_from_subdomain"] == "bounce"
    response = await post_sender(
        client, tenant, {"email": "c@shared-mf.com", "name": "x", "mail_from_subdomain": "mail"}
    )
    assert response.status_code == 400
    assert response.json()["attr"] == "mail_from_subdomain"
    assert response.json()["detail"].startswith(
        "shared-mf.com already uses the MAIL FROM subdomain 'bounce'."
    )


async def test_senders_that_disagree_block_new_ones(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str
) -> None:
    for email, sub in (("a@split-mf.com", "one"), ("b@split-mf.com", "two")):
        await factory.integration(
            tenant.project,
            "email",
            email,
            {"email": email, "domain": "split-mf.com", "mail_from_subdomain": sub, "provider": "ses"},
        )
    response = await post_sender(client, tenant, {"email": "c@split-mf.com", "name": "x"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Senders on split-mf.com use different MAIL FROM subdomains.")


async def test_maildev_sender_is_verified_at_once(
    client_with: ClientWith, tenant: Tenant, moto_ses: str
) -> None:
    local = await client_with(email_provider="maildev")
    body = await create_sender(local, tenant, "dev@local-mail.com")
    assert body["config"]["provider"] == "maildev" and body["config"]["verified"] is True
    assert not ses_identity_exists(moto_ses, "local-mail.com")
    verify = await local.post(
        f"{tenant.base}/integrations/{body['id']}/email/verify/", headers=tenant.headers
    )
    assert verify.json() == {"status": "success", "dnsRecords": []}


async def test_verify_reads_dns_and_marks_the_domains_senders(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str, dns_zone: DNSTestServer
) -> None:
    first = await create_sender(client, tenant, "a@verify-me.com")
    second = await create_sender(client, tenant, "b@verify-me.com")
    other_domain = await create_sender(client, tenant, "c@other-verify.com")
    pending = (
        await client.post(f"{tenant.base}/integrations/{first['id']}/email/verify/", headers=tenant.headers)
    ).json()
    assert pending["status"] == "pending"
    assert [r["type"] for r in pending["dnsRecords"]] == [
        "verification",
        "dkim",
        "dkim",
        "dkim",
        "mail_from",
        "spf",
        "dmarc",
    ]
    assert {r["status"] for r in pending["dnsRecords"]} == {"pending"}
    # Publish the required records (verification and DKIM) by hand.
    for record in pending["dnsRecords"]:
        if record["type"] in ("verification", "dkim"):
            dns_zone.add(record["recordHostname"], record["recordType"], record["recordValue"])
    done = await client.post(
        f"{tenant.base}/integrations/{first['id']}/email/verify/", headers=tenant.headers
    )
    assert done.status_code == 200
    assert done.json()["status"] == "success"
    statuses = {r["type"]: r["status"] for r in done.json()["dnsRecords"]}
    assert statuses["verification"] == statuses["dkim"] == "success"
    assert statuses["mail_from"] == "pending"
    listed = (await client.get(f"{tenant.base}/integrations/?kind=email", headers=tenant.headers)).json()[
        "results"
    ]
    verified = {r["id"]: r["config"]["verified"] for r in listed}
    assert verified == {first["id"]: True, second["id"]: True, other_domain["id"]: False}


async def test_verify_and_patch_need_an_email_sender_and_admin(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str
) -> None:
    twilio = await factory.integration(tenant.project, "twilio", "AC1")
    assert (
        await client.post(f"{tenant.base}/integrations/{twilio.id}/email/verify/", headers=tenant.headers)
    ).status_code == 404
    assert (
        await client.patch(
            f"{tenant.base}/integrations/{twilio.id}/email/", headers=tenant.headers, json={"config": {}}
        )
    ).status_code == 404
    sender = await create_sender(client, tenant, "a@admin-only.com")
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    for response in (
        await client.post(f"{tenant.base}/integrations/{sender['id']}/email/verify/", headers=member.headers),
        await client.patch(
            f"{tenant.base}/integrations/{sender['id']}/email/",
            headers=member.headers,
            json={"config": {"name": "x"}},
        ),
    ):
        assert response.status_code == 403
        assert response.json()["detail"] == "You don't have sufficient permissions in the project."
    reader = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["integration:read"])
    response = await client.post(
        f"{tenant.base}/integrations/{sender['id']}/email/verify/", headers=reader.headers
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "API key missing required scope 'integration:write'"


async def test_patch_renames_and_changes_mail_from(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str
) -> None:
    sender = await create_sender(client, tenant, "a@patch-me.com")
    url = f"{tenant.base}/integrations/{sender['id']}/email/"
    renamed = await client.patch(url, headers=tenant.headers, json={"config": {"name": "Marketing"}})
    assert renamed.status_code == 200
    assert renamed.json()["config"]["name"] == "Marketing"
    assert renamed.json()["config"]["mail_from_subdomain"] == "feedback"
    changed = await client.patch(
        url, headers=tenant.headers, json={"config": {"mail_from_subdomain": "Bounce"}}
    )
    assert changed.json()["config"]["mail_from_subdomain"] == "bounce"
    assert list(changed.json()) == [
        "id",
        "kind",
        "config",
        "created_at",
        "created_by",
        "errors",
        "display_name",
        "files_write_requestable",
        "installation_shared",
        "installation_status",
        "health",
    ]
    blank = await client.patch(url, headers=tenant.headers, json={"config": {"name": ""}})
    assert blank.status_code == 400 and blank.json()["attr"] == "name"
    # With a second sender on the domain, one of them cannot move alone.
    await create_sender(client, tenant, "b@patch-me.com")
    refused = await client.patch(
        url, headers=tenant.headers, json={"config": {"mail_from_subdomain": "other"}}
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("patch-me.com already uses the MAIL FROM subdomain 'bounce'.")


async def test_deleting_the_last_sender_removes_the_ses_identity(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, moto_ses: str
) -> None:
    first = await create_sender(client, tenant, "a@cleanup-me.com")
    project = await factory.project(tenant.organization)
    sibling = Tenant(tenant.user, tenant.organization, project, tenant.key, tenant.headers)
    second = await create_sender(client, sibling, "b@cleanup-me.com")
    assert (
        await client.delete(f"{tenant.base}/integrations/{first['id']}/", headers=tenant.headers)
    ).status_code == 204
    assert ses_identity_exists(moto_ses, "cleanup-me.com")  # the sibling project still sends from it
    assert (
        await client.delete(f"{sibling.base}/integrations/{second['id']}/", headers=tenant.headers)
    ).status_code == 204
    assert not ses_identity_exists(moto_ses, "cleanup-me.com")


async def test_ses_outage_is_not_a_bare_500(client_with: ClientWith, tenant: Tenant, moto_ses: str) -> None:
    down = await client_with(ses_endpoint_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    response = await post_sender(down, tenant, {"email": "a@outage-mail.com", "name": "x"})
    assert response.status_code == 503
    assert response.json() == {
        "type": "server_error",
        "code": "provider_unreachable",
        "detail": "Amazon SES could not be reached. Please try again later.",
        "attr": None,
    }
    listed = (await down.get(f"{tenant.base}/integrations/", headers=tenant.headers)).json()
    assert listed["count"] == 0
