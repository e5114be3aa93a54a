"""connect sessions

Links a product hands its end users to connect an integration on Patchbay's hosted page
(patchbay.connect), and two facts on every OAuth attempt: the hash of the starting browser's
cookie (the callback must come from that browser) and the connect session it belongs to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "kinds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("next_url", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("integration_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_connect_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_connect_sessions_created_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_pk"],
            ["integrations.id"],
            name=op.f("fk_connect_sessions_integration_pk_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_connect_sessions_token_hash")),
    )
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("browser_binding", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("connect_session_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("connect_popup", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            op.f("fk_oauth_states_connect_session_id_connect_sessions"),
            "connect_sessions",
            ["connect_session_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_constraint(op.f("fk_oauth_states_connect_session_id_connect_sessions"), type_="foreignkey")
        batch.drop_column("connect_popup")
        batch.drop_column("connect_session_id")
        batch.drop_column("browser_binding")
    op.drop_table("connect_sessions")
