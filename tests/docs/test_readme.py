"""README stands on its own in a clone (issue 17 item 11): every setting is in its configuration
table, and no link leads out of the repository."""

from __future__ import annotations

import re
from pathlib import Path

from patchbay.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|<(https?://[^>]+)>")


def configuration_rows() -> list[str]:
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `PATCHBAY_")]


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = {
        name
        for row in configuration_rows()
        for name in re.findall(r"`(PATCHBAY_[A-Z0-9_<>]+)`", row.split("|")[1])
    }
    settings = {
        f"PATCHBAY_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if not field.exclude  # kind_overrides: set by code and tests, not an environment variable
    }
    assert len(settings) > 20
    assert sorted(settings - documented) == []


def test_no_link_leaves_the_repository() -> None:
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("api.md"))]:
        text = path.read_text()
        for match in LINK.finditer(text):
            target = match.group(1) or match.group(2)
            assert not re.match(r"^[a-z][a-z0-9+.-]*:", target), f"{path.name} links outside: {target}"
            local = (path.parent / target.split("#", 1)[0]).resolve()
            assert local.is_relative_to(ROOT), f"{path.name} links outside the repository: {target}"
            assert local.exists(), f"{path.name} links to a missing file: {target}"
