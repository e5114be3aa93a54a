"""`patchbay projects …` and what `@current` means after set-up from the command line (issue 17
item 8): a user's first project becomes their current one, `projects use` changes it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from patchbay.models import Project
from patchbay.runtime import Runtime
from tests.cli.helpers import run, run_json
from tests.conftest import TEST_KEY
from tests.support.factory import Factory


@pytest.fixture
def cli_env(database_url: str, runtime: Runtime) -> dict[str, str]:
    """The test database (both backends); `runtime` empties it afterwards."""
    return {"PATCHBAY_DATABASE_URL": database_url, "PATCHBAY_ENCRYPTION_KEYS": TEST_KEY}


async def listed_ids(client: httpx.AsyncClient, key: str) -> list[int]:
    response = await client.get(
        "/api/projects/@current/integrations/", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["results"]]


async def test_current_project_after_cli_set_up(
    client: httpx.AsyncClient, factory: Factory, cli_env: dict[str, str], tmp_path: Path
) -> None:
    org = run_json(
        ["orgs", "create", "--name", "Hooli", "--owner-email", "gavin@hooli.com"], cli_env, tmp_path
    )
    early = run_json(
        ["members", "add", "--organization", org["id"], "--email", "early@hooli.com", "--level", "member"],
        cli_env, tmp_path,
    )  # fmt: skip
    first = run_json(["projects", "create", "--organization", "Hooli", "--name", "Web"], cli_env, tmp_path)
    second = run_json(
        ["projects", "create", "--organization", "Hooli", "--name", "Mobile"], cli_env, tmp_path
    )
    late = run_json(
        ["members", "add", "--organization", "Hooli", "--email", "late@hooli.com", "--level", "admin"],
        cli_env, tmp_path,
    )  # fmt: skip
    in_second = await factory.integration(Project(id=second["id"]), integration_id="AC-second")
    keys = {
        email: run_json(["keys", "create", "--email", email], cli_env, tmp_path)["value"]
        for email in ("gavin@hooli.com", early["user"]["email"], late["user"]["email"])
    }
    for key in keys.values():
        # Owner, a member from before and one from after: the first project is everyone's @current.
        assert await listed_ids(client, key) == []
    org_listed = await client.get(
        "/api/organizations/@current/integrations/",
        headers={"Authorization": f"Bearer {keys['gavin@hooli.com']}"},
    )
    assert org_listed.status_code == 200

    used = run_json(["projects", "use", "--email", "gavin@hooli.com", "Mobile"], cli_env, tmp_path)
    assert used["project"] == second
    assert await listed_ids(client, keys["gavin@hooli.com"]) == [in_second.id]
    assert await listed_ids(client, keys["early@hooli.com"]) == [], "others keep theirs"
    by_id = run_json(["projects", "use", "--email", "gavin@hooli.com", str(first["id"])], cli_env, tmp_path)
    assert by_id["project"]["id"] == first["id"]
    assert await listed_ids(client, keys["gavin@hooli.com"]) == []


def test_projects_list_and_use_refusals(cli_env: dict[str, str], tmp_path: Path) -> None:
    acme = run_json(["orgs", "create", "--name", "Acme", "--owner-email", "wile@acme.com"], cli_env, tmp_path)
    run_json(["orgs", "create", "--name", "Globex", "--owner-email", "hank@globex.com"], cli_env, tmp_path)
    rocket = run_json(["projects", "create", "--organization", "Acme", "--name", "Rocket"], cli_env, tmp_path)
    run_json(["projects", "create", "--organization", "Globex", "--name", "Dome"], cli_env, tmp_path)
    run_json(["projects", "create", "--organization", "Globex", "--name", "Rocket"], cli_env, tmp_path)

    everything = run_json(["projects", "list"], cli_env, tmp_path)
    assert everything["count"] == 3 and [p["name"] for p in everything["results"]] == [
        "Rocket",
        "Dome",
        "Rocket",
    ]
    only_acme = run_json(["projects", "list", "--organization", "Acme"], cli_env, tmp_path)
    assert only_acme == {"count": 1, "results": [rocket]}
    assert rocket == {"id": rocket["id"], "name": "Rocket", "organization_id": acme["id"]}
    human = run(["projects", "list", "--organization", "Acme"], cli_env, tmp_path)
    assert human.returncode == 0 and f"{rocket['id']}  Rocket" in human.stdout

    for args, message in [
        (
            ["--email", "hank@globex.com", str(rocket["id"])],
            "hank@globex.com is not a member of organization",
        ),
        (["--email", "hank@globex.com", "Rocket"], "several projects are named 'Rocket': use the id"),
        (["--email", "hank@globex.com", "Nope"], "project 'Nope' not found"),
        (["--email", "nobody@globex.com", "Dome"], "no user with email nobody@globex.com"),
    ]:
        refused = run(["projects", "use", *args], cli_env, tmp_path)
        assert refused.returncode == 1 and message in refused.stderr and refused.stdout == ""
