"""Tenant ids in the path: ASCII digits (projects) and ASCII UUIDs (organizations) only. Anything
else names no tenant — 404 — even where Python's int() or uuid.UUID() would read a number."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.support.factory import Tenant

ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
FULLWIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")


def spellings(pid: int) -> list[str]:
    text = str(pid)
    return [
        text.translate(ARABIC_INDIC),
        text.translate(FULLWIDTH),
        f"+{text}",
        f" {text}",
        f"{text} ",
        f"0{text}",
        f"{text[0]}_{text[1:]}" if len(text) > 1 else f"0_{text}",
    ]


async def test_project_ids_are_ascii_digits_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    ok = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert ok.status_code == 200
    for spelling in spellings(tenant.project.id):
        for prefix in ("/api/projects", "/api/environments"):
            response = await client.get(f"{prefix}/{quote(spelling)}/integrations/", headers=tenant.headers)
            assert response.status_code == 404, (spelling, response.text)
            assert response.json() == {
                "type": "invalid_request",
                "code": "not_found",
                "detail": "Project not found.",
                "attr": None,
            }


async def test_a_bad_key_is_still_401_on_a_malformed_project_id(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"/api/projects/{quote(chr(0x661))}/integrations/", headers={"Authorization": "Bearer phx_nope"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("spell", [lambda u: u.upper(), lambda u: u.replace("-", "")])
async def test_organization_ids_in_other_ascii_spellings_still_resolve(
    client: httpx.AsyncClient, tenant: Tenant, spell: object
) -> None:
    assert callable(spell)
    response = await client.get(
        f"/api/organizations/{spell(str(tenant.organization.id))}/integrations/", headers=tenant.headers
    )
    assert response.status_code == 200


async def test_organization_ids_with_unicode_digits_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    text = str(tenant.organization.id).translate(ARABIC_INDIC)
    response = await client.get(f"/api/organizations/{quote(text)}/integrations/", headers=tenant.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "Organization not found."
