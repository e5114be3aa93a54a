"""Run the one Alembic history programmatically (`patchbay migrate`, `patchbay serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> list[str]:
    """Apply the history up to `revision`; the revisions applied, oldest first (none: up to date)."""
    applied: list[str] = []

    def record(*, step: Any, **_: Any) -> None:
        applied.append(f"{step.up_revision_id} ({step.up_revision.doc.splitlines()[0].strip()})")

    config = alembic_config(database_url)
    config.attributes["on_version_apply"] = record
    command.upgrade(config, revision)
    return applied
