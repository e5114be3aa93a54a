"""Cards of the credential kinds on the connect page, read from each kind's config model: the fields
they show, a form that creates through the API's builders (checked against the simulators), errors
next to the field they concern, secrets never written back into the page, and the kinds a session
does not offer refused."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from patchbay.connect.kinds import CREDENTIAL_CARDS
from patchbay.providers import registry
from patchbay.providers.google_cloud.simulator import add_service_account
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit.aws import add_access_key
from tests.connect.helpers import csrf_token, field_error, integrations, new_link, sessions
from tests.support.factory import Tenant
from tests.support.kinds import SENTINEL


def control(html: str, fid: str) -> str:
    """The opening tag of the form control with this id."""
    found = re.search(rf'<(input|textarea) id="{re.escape(fid)}"[^>]*>', html)
    assert found, fid
    return found.group(0)


def test_every_credential_kind_has_a_card() -> None:
    credential_kinds = {
        kind
        for provider in registry.providers()
        if provider.credential_kind is not None and provider.credential_kind.config_model is not None
        for kind in provider.kinds
    }
    assert credential_kinds <= set(CREDENTIAL_CARDS)
    assert {"aws-s3", "postgresql", "google-pubsub", "snowflake", "anthropic"} <= credential_kinds


async def test_the_cards_show_each_kinds_fields(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    kinds = ["aws-s3", "postgresql", "google-pubsub", "anthropic", "firebase", "apns"]
    page = await client.get(await new_link(client, tenant, kinds=kinds))
    html = page.text
    for name in ("Amazon S3", "PostgreSQL", "Google Pub/Sub", "Anthropic", "Firebase", "Apple Push"):
        assert f">{name}<" in html
    assert 'type="password"' in control(html, "aws-s3-aws_secret_access_key")
    assert 'type="text"' in control(html, "aws-s3-aws_role_arn")
    assert 'required aria-required="true"' in control(html, "aws-s3-name")
    assert 'inputmode="numeric"' in control(html, "postgresql-port")
    assert control(html, "google-pubsub-key").startswith("<textarea")
    assert 'type="checkbox"' in control(html, "anthropic-force")
    assert '<label for="postgresql-ssl_mode">SSL mode <span class="optional">(optional)</span>' in html
    # Push identity settings need a project admin, which a link does not prove: not on the page.
    assert "push_identity" not in html


async def test_aws_keys_through_the_form(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    key = add_access_key(sandbox.state, secret=SENTINEL, account="210987654321")
    link = await new_link(client, tenant, kinds=["aws-s3"], next="/done")
    token = csrf_token((await client.get(link)).text)
    form = {"csrf_token": token, "name": "prod-aws", "aws_access_key_id": key.access_key_id}
    wrong = await client.post(f"{link}/kinds/aws-s3", data={**form, "aws_secret_access_key": SENTINEL + "x"})
    assert wrong.status_code == 400
    # No field named, but AWS's message speaks of the secret access key: shown there.
    shown = field_error(wrong.text, "aws-s3", "aws_secret_access_key")
    assert shown is not None and shown.startswith("AWS credentials are not valid: The request signature")
    assert 'value="prod-aws"' in wrong.text
    assert SENTINEL not in wrong.text and key.access_key_id not in wrong.text  # secrets are not echoed
    assert await integrations(runtime) == []
    right = await client.post(f"{link}/kinds/aws-s3", data={**form, "aws_secret_access_key": SENTINEL})
    assert right.status_code == 303, right.text
    (made,) = await integrations(runtime)
    assert made.kind == "aws-s3" and made.config == {"name": "prod-aws", "aws_account_id": "210987654321"}
    assert runtime.keyring.decrypt_json(made.sensitive_config)["aws_secret_access_key"] == SENTINEL
    assert (await sessions(runtime))[0].used_at is not None


async def test_an_error_appears_next_to_the_field_it_names(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    link = await new_link(client, tenant, kinds=["aws-s3", "postgresql"])
    token = csrf_token((await client.get(link)).text)
    role = {
        "csrf_token": token,
        "name": "r",
        "aws_role_arn": "arn:aws:iam::123456789012:role/x",
        "external_id": "x",
    }
    named = await client.post(f"{link}/kinds/aws-s3", data=role)
    assert field_error(named.text, "aws-s3", "external_id") == (
        "External ID must be a string of 2 to 1224 characters without spaces"
    )
    pg = {"csrf_token": token, "host": "db.example.com", "port": "54x", "user": "u", "password": SENTINEL}
    not_a_number = await client.post(f"{link}/kinds/postgresql", data=pg)
    assert field_error(not_a_number.text, "postgresql", "port") == "A valid integer is required."
    assert 'value="54x"' in not_a_number.text and SENTINEL not in not_a_number.text
    # A private address is refused; the message speaks of the host, so it is shown there.
    private = await client.post(f"{link}/kinds/postgresql", data={**pg, "host": "10.1.2.3", "port": "5432"})
    assert private.status_code == 400
    assert field_error(private.text, "postgresql", "host") == "Provided host '10.1.2.3' is not valid"
    assert await integrations(runtime) == []


async def test_a_key_file_through_the_form_is_never_written_back(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    key = add_service_account(sandbox.state)
    link = await new_link(client, tenant, kinds=["google-pubsub"])
    token = csrf_token((await client.get(link)).text)
    refused = await client.post(
        f"{link}/kinds/google-pubsub",
        data={"csrf_token": token, "key": json.dumps({**key, "private_key_id": "other", "note": SENTINEL})},
    )
    assert refused.status_code == 400
    assert (
        field_error(refused.text, "google-pubsub", "key")
        == "Failed to authenticate with provided service account key"
    )
    assert SENTINEL not in refused.text and "PRIVATE KEY" not in refused.text
    made = await client.post(
        f"{link}/kinds/google-pubsub", data={"csrf_token": token, "key": json.dumps(key)}
    )
    assert made.status_code == 303, made.text
    (row,) = await integrations(runtime)
    assert row.kind == "google-pubsub" and row.integration_id == key["client_email"]


@pytest.mark.parametrize("kind", ["aws-s3", "postgresql"])
async def test_a_credential_kind_outside_the_session_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, kind: str
) -> None:
    link = await new_link(client, tenant, kinds=["twilio"])
    page = await client.get(link)
    assert f'data-kind="{kind}"' not in page.text
    posted = await client.post(
        f"{link}/kinds/{kind}", data={"csrf_token": csrf_token(page.text), "name": "n"}
    )
    assert posted.status_code == 404
    assert await integrations(runtime) == []


async def test_a_session_may_name_credential_kinds_and_defaults_to_all_of_them(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    everything = await client.get(await new_link(client, tenant))
    for kind in ("aws-s3", "google-cloud-service-account", "snowflake", "s3-compatible"):
        assert f'data-kind="{kind}"' in everything.text
    created = await client.post(
        f"{tenant.base}/connect_sessions/",
        json={"kinds": ["snowflake", "azure-blob"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
