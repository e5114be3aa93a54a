"""`patchbay orgs list` (issue 17 item 9)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import run, run_json


def test_orgs_list(tmp_path: Path) -> None:
    env = {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert run_json(["orgs", "list"], env, tmp_path) == {"count": 0, "results": []}
    zeta = run_json(["orgs", "create", "--name", "Zeta", "--owner-email", "z@zeta.io"], env, tmp_path)
    alpha = run_json(["orgs", "create", "--name", "Alpha", "--owner-email", "a@alpha.io"], env, tmp_path)
    assert run_json(["orgs", "list"], env, tmp_path) == {"count": 2, "results": [alpha, zeta]}
    human = run(["orgs", "list"], env, tmp_path)
    assert human.stdout.splitlines() == [f"{alpha['id']}  Alpha", f"{zeta['id']}  Zeta"]
