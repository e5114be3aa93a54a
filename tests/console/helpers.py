"""Signing in to the console with an HTTP client, and reading what its pages say."""

from __future__ import annotations

import re
from html import unescape

import httpx

from patchbay.console import sessions
from patchbay.runtime import Runtime
from tests.support.factory import Tenant

PASSWORD = "correct horse battery staple"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, html[:3000]
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


async def with_password(runtime: Runtime, tenant: Tenant, password: str = PASSWORD) -> Tenant:
    await sessions.set_password(runtime, tenant.user.email, password)
    return tenant


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/console/sign-in")
    assert form.status_code == 200, form.text
    return await client.post(
        "/console/sign-in",
        data={"csrf_token": csrf_token(form.text), "email": email, "password": password},
    )


async def signed_in(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> str:
    """Sign the tenant in (its password set first); the CSRF token of its session's forms."""
    await with_password(runtime, tenant)
    answer = await sign_in(client, tenant.user.email)
    assert answer.status_code == 303, answer.text
    page = await client.get("/console/keys")
    assert page.status_code == 200, page.text
    return csrf_token(page.text)
