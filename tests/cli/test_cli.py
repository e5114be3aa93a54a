"""The `patchbay` command line, run as a user runs it (issue 2, CONTRACT §3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.cli.helpers import run
from tests.conftest import POSTGRES_URL


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_bootstrap_json_and_key_file(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    result = run(
        ["bootstrap", "--email", "Ada@Example.com", "--organization", "Acme", "--project", "Web", "--json"],
        sqlite_env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"user", "organization", "project", "api_key"}
    assert data["user"]["email"] == "ada@example.com" and isinstance(data["user"]["id"], int)
    assert data["api_key"].startswith("phx_") and isinstance(data["project"]["id"], int)
    assert len(result.stdout.strip().splitlines()) == 1, "--json prints one object and nothing else on stdout"
    key_file = tmp_path / "patchbay.keys"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_orgs_projects_members_keys(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    org = run(
        ["orgs", "create", "--name", "Globex", "--owner-email", "hank@globex.com", "--json"],
        sqlite_env,
        tmp_path,
    )
    assert org.returncode == 0, org.stderr
    org_data = json.loads(org.stdout)
    assert org_data["name"] == "Globex" and len(org_data["id"]) == 36
    project = run(
        ["projects", "create", "--organization", "Globex", "--name", "App", "--json"], sqlite_env, tmp_path
    )
    assert project.returncode == 0, project.stderr
    project_data = json.loads(project.stdout)
    assert project_data["organization_id"] == org_data["id"] and project_data["name"] == "App"
    by_id = run(
        ["projects", "create", "--organization", org_data["id"], "--name", "App 2", "--json"],
        sqlite_env,
        tmp_path,
    )
    assert by_id.returncode == 0
    member = run(
        [
            "members",
            "add",
            "--organization",
            "Globex",
            "--email",
            "marge@globex.com",
            "--level",
            "admin",
            "--json",
        ],
        sqlite_env,
        tmp_path,
    )
    assert member.returncode == 0, member.stderr
    assert json.loads(member.stdout)["level"] == 8
    key = run(
        ["keys", "create", "--email", "marge@globex.com", "--label", "ci", "--scopes", "integration:read,proxy_record:write",
         "--scoped-projects", str(project_data["id"]), "--json"],
        sqlite_env, tmp_path,
    )  # fmt: skip
    assert key.returncode == 0, key.stderr
    key_data = json.loads(key.stdout)
    assert set(key_data) == {"id", "label", "scopes", "value"}
    assert key_data["scopes"] == ["integration:read", "proxy_record:write"] and key_data["value"].startswith(
        "phx_"
    )
    human = run(
        ["orgs", "create", "--name", "Initech", "--owner-email", "bill@initech.com"], sqlite_env, tmp_path
    )
    assert human.returncode == 0 and "Initech" in human.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["members", "add", "--organization", "Nope", "--email", "a@b.co", "--level", "member"],
            "organization 'Nope' not found",
        ),
        (
            ["members", "add", "--organization", "Nope", "--email", "a@b.co", "--level", "king"],
            "--level must be member, admin or owner",
        ),
        (["keys", "create", "--email", "ghost@b.co"], "no user with email ghost@b.co"),
        (
            ["keys", "create", "--email", "x@b.co", "--scopes", "integration:destroy"],
            "Invalid scope: integration:destroy",
        ),
        (["bootstrap", "--email", "not-an-email"], "is not a valid email address"),
        (["projects", "create", "--organization", "Nope", "--name", "X"], "organization 'Nope' not found"),
    ],
)
def test_bad_input_is_one_clear_line(
    tmp_path: Path, sqlite_env: dict[str, str], args: list[str], message: str
) -> None:
    result = run(args, sqlite_env, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_postgres_refuses_to_start_without_keys(tmp_path: Path) -> None:
    result = run(
        ["migrate"], {"PATCHBAY_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres"}, tmp_path
    )
    assert result.returncode == 1
    assert "PATCHBAY_ENCRYPTION_KEYS is required with PostgreSQL" in result.stderr


def test_bad_encryption_key_is_refused(tmp_path: Path, sqlite_env: dict[str, str]) -> None:
    result = run(["migrate"], {**sqlite_env, "PATCHBAY_ENCRYPTION_KEYS": "garbage"}, tmp_path)
    assert result.returncode == 1 and "not a Fernet key" in result.stderr and "garbage" not in result.stderr


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_rotate_encryption_reencrypts_everything_and_can_rerun(tmp_path: Path, backend_name: str) -> None:
    import asyncio

    from tests.support.pg import create_database, drop_database

    if backend_name == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("PATCHBAY_TEST_POSTGRES_URL not set")
        url = create_database(POSTGRES_URL, f"patchbay_cli_{os.getpid()}_{os.urandom(3).hex()}")
    else:
        url = f"sqlite:///{tmp_path / 'rot.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        env = {"PATCHBAY_DATABASE_URL": url, "PATCHBAY_ENCRYPTION_KEYS": old}
        assert run(["bootstrap", "--email", "a@b.co", "--json"], env, tmp_path).returncode == 0
        asyncio.run(_seed_secrets(url, old, 450))
        rotated = run(
            ["keys", "rotate-encryption", "--json"],
            {**env, "PATCHBAY_ENCRYPTION_KEYS": f"{new},{old}"},
            tmp_path,
        )
        assert rotated.returncode == 0, rotated.stderr
        assert json.loads(rotated.stdout) == {"examined": 450, "rotated": 450, "unreadable": 0}
        assert "rows checked" in rotated.stderr, "shows progress"
        again = run(
            ["keys", "rotate-encryption", "--json"],
            {**env, "PATCHBAY_ENCRYPTION_KEYS": f"{new},{old}"},
            tmp_path,
        )
        assert json.loads(again.stdout) == {"examined": 450, "rotated": 0, "unreadable": 0}
        assert asyncio.run(_all_readable_with(url, new)) == 450
        missing_old = run(
            ["keys", "rotate-encryption", "--json"],
            {**env, "PATCHBAY_ENCRYPTION_KEYS": Fernet.generate_key().decode()},
            tmp_path,
        )
        assert missing_old.returncode == 1 and json.loads(missing_old.stdout)["unreadable"] == 450
    finally:
        if backend_name == "postgresql":
            drop_database(POSTGRES_URL, url)  # type: ignore[arg-type]


async def _seed_secrets(url: str, key: str, count: int) -> None:
    from sqlalchemy import select

    from patchbay.kit.crypto import KeyRing
    from patchbay.kit.db import Database
    from patchbay.models import Integration, Project

    db = Database(url)
    ring = KeyRing([key])
    async with db.transaction() as session:
        project_id = await session.scalar(select(Project.id))
        session.add_all(
            Integration(project_id=project_id, kind="twilio", integration_id=f"AC{i}", config={},
                        sensitive_config=ring.encrypt_json({"auth_token": f"t{i}"}), errors="")
            for i in range(count)
        )  # fmt: skip
    await db.dispose()


async def _all_readable_with(url: str, key: str) -> int:
    from sqlalchemy import select

    from patchbay.kit.crypto import KeyRing
    from patchbay.kit.db import Database
    from patchbay.models import Integration

    db = Database(url)
    ring = KeyRing([key])
    async with db.session() as session:
        tokens = (await session.scalars(select(Integration.sensitive_config))).all()
    await db.dispose()
    return sum(1 for t in tokens if ring.decrypt_json(t)["auth_token"].startswith("t"))
