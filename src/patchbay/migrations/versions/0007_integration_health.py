"""integration health

Three columns on `integrations` for the health object every integration response carries
(patchbay.integration.health): the status, its detail and when the connection was last verified.
Rows already marked TOKEN_REFRESH_FAILED start as refresh_failed, or reauthorization_required when
the refresh bookkeeping says the provider refused the grant; every other row starts unknown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: a batch rebuild on SQLite would drop the table's
    # AUTOINCREMENT (0003).
    op.add_column(
        "integrations",
        sa.Column("health_status", sa.String(length=32), server_default=sa.text("'unknown'"), nullable=False),
    )
    op.add_column("integrations", sa.Column("health_detail", sa.Text(), nullable=True))
    op.add_column("integrations", sa.Column("health_checked_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    failed = bind.execute(
        sa.text("SELECT id, config FROM integrations WHERE errors = 'TOKEN_REFRESH_FAILED'")
    ).all()
    for pk, config in failed:
        if isinstance(config, str):
            config = json.loads(config)
        config = config if isinstance(config, dict) else {}
        refused = config.get("refresh_terminal") or config.get("refresh_invalid_grant_count")
        status = "reauthorization_required" if refused else "refresh_failed"
        bind.execute(
            sa.text("UPDATE integrations SET health_status = :status WHERE id = :pk"),
            {"status": status, "pk": pk},
        )


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+), for the same reason.
    for column in ("health_checked_at", "health_detail", "health_status"):
        op.execute(f"ALTER TABLE integrations DROP COLUMN {column}")
