"""integration activity

The activity log of each integration (patchbay.activity): proxy calls, credential reads, refreshes
and checks with their outcome, kept PATCHBAY_ACTIVITY_RETENTION_DAYS.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integration_activity",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("api_key_id", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_activity_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_integration_activity_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_activity")),
    )
    with op.batch_alter_table("integration_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integration_activity_integration_created",
            ["integration_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_integration_activity_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_integration_activity_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("integration_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_activity_project_id"))
        batch_op.drop_index("ix_integration_activity_created_at")
        batch_op.drop_index("ix_integration_activity_integration_created")
    op.drop_table("integration_activity")
