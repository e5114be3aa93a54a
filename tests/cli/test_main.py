"""The `patchbay` entry point (issue 17 item 9): --version, plain flags in help, and migrations that
speak only when they apply something."""

from __future__ import annotations

from pathlib import Path

from patchbay import __version__
from tests.cli.helpers import run


def test_version(tmp_path: Path) -> None:
    result = run(["--version"], {}, tmp_path)
    assert result.returncode == 0 and result.stdout == f"patchbay {__version__}\n"


def test_on_off_options_read_as_flags(tmp_path: Path) -> None:
    help_text = run(["serve", "--help"], {}, tmp_path).stdout
    assert (
        "--sandbox " in help_text and "--demo " in help_text and "--refresher / --no-refresher" in help_text
    )
    assert "<bool>" not in help_text
    assert "<bool>" not in run(["keys", "list", "--help"], {}, tmp_path).stdout


def test_migrate_says_what_it_applied_and_other_commands_stay_quiet(tmp_path: Path) -> None:
    env = {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    first = run(["migrate"], env, tmp_path)
    assert first.returncode == 0
    assert "applied 0001 (initial schema), 0002 (auth change notifications)" in first.stderr
    again = run(["migrate"], env, tmp_path)
    assert again.returncode == 0 and "is up to date; no migration to apply" in again.stderr
    assert "applied" not in again.stderr
    listed = run(["orgs", "list"], env, tmp_path)
    assert listed.returncode == 0 and listed.stderr == "", "no migration chatter when nothing is applied"
    fresh = {"PATCHBAY_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    migrated_first = run(["orgs", "list"], fresh, tmp_path)
    assert "applied 0001" in migrated_first.stderr and migrated_first.stdout == "no organizations\n"
