"""webhook deliveries carry their event

Publishing wrote two rows per create with a subscriber: the event (its body) and one delivery per
endpoint, with seven index entries between them. A delivery now carries its event's id, type, body
and time, and the events table goes: publishing to one endpoint writes one row and three index
entries. On PostgreSQL this took about two thirds of what publishing added to a create
(docs/benchmarks.md, "One row per delivery"). An event sent to several endpoints of a project has
its body once per delivery; the deliveries of one event still share its id, the `webhook-id` header.

- The pruner deletes deliveries by their event's age, through a BRIN index on PostgreSQL (the rows
  arrive in time order: one entry per range of pages instead of one per row).
- Deleting a project deletes its endpoints (their foreign key) and their deliveries (0010's
  trigger), so the events' own cascades (0010) go with the table.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DateTime = sa.DateTime(timezone=True)
PRUNE_INDEX = "ix_webhook_deliveries_event_created_at"
# 0010's cascades that went through the events table: (trigger, its table, function).
EVENT_CASCADES = (
    ("webhook_events_delete_webhook_deliveries", "webhook_events",
     "patchbay_delete_webhook_deliveries_of_webhook_events"),
    ("projects_delete_webhook_events", "projects", "patchbay_delete_webhook_events_of_projects"),
)  # fmt: skip


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("event_created_at", DateTime, nullable=True))
    op.execute(
        """
        UPDATE webhook_deliveries SET
            event_type = (SELECT type FROM webhook_events WHERE webhook_events.id = webhook_deliveries.event_id),
            body = (SELECT body FROM webhook_events WHERE webhook_events.id = webhook_deliveries.event_id),
            event_created_at = (SELECT created_at FROM webhook_events
                                WHERE webhook_events.id = webhook_deliveries.event_id)
        """
    )
    # Only a delivery whose event was already gone lacks one (0010: nothing else removes an event).
    op.execute("DELETE FROM webhook_deliveries WHERE body IS NULL")
    if postgresql:
        for trigger, table, function in EVENT_CASCADES:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.alter_column("event_type", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("event_created_at", existing_type=DateTime, nullable=False)
        batch_op.drop_index("ix_webhook_deliveries_event_id")
        if not postgresql:  # on PostgreSQL 0010 dropped it
            batch_op.drop_constraint("fk_webhook_deliveries_event_id_webhook_events", type_="foreignkey")
    op.create_index(PRUNE_INDEX, "webhook_deliveries", ["event_created_at"], postgresql_using="brin")
    op.drop_index("ix_webhook_events_project_id", table_name="webhook_events")
    op.drop_index("ix_webhook_events_created_at", table_name="webhook_events")
    op.drop_table("webhook_events")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        *([] if postgresql else [sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_webhook_events_project_id_projects"),
            ondelete="CASCADE",
        )]),
    )  # fmt: skip
    op.create_index("ix_webhook_events_created_at", "webhook_events", ["created_at"])
    op.create_index("ix_webhook_events_project_id", "webhook_events", ["project_id"])
    # One event per event id, its project the endpoint's.
    op.execute(
        """
        INSERT INTO webhook_events (id, project_id, type, body, created_at)
        SELECT d.event_id, MIN(e.project_id), MIN(d.event_type), MIN(d.body), MIN(d.event_created_at)
        FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        GROUP BY d.event_id
        """
    )
    op.execute("DELETE FROM webhook_deliveries WHERE event_id NOT IN (SELECT id FROM webhook_events)")
    op.drop_index(PRUNE_INDEX, table_name="webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_event_id", ["event_id"], unique=False)
        if not postgresql:
            batch_op.create_foreign_key(
                "fk_webhook_deliveries_event_id_webhook_events",
                "webhook_events",
                ["event_id"],
                ["id"],
                ondelete="CASCADE",
            )
        batch_op.drop_column("event_created_at")
        batch_op.drop_column("body")
        batch_op.drop_column("event_type")
    if postgresql:
        for trigger, table, function in EVENT_CASCADES:
            child, column = (
                ("webhook_deliveries", "event_id")
                if table == "webhook_events"
                else ("webhook_events", "project_id")
            )
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM {child} WHERE {column} IN (SELECT id FROM deleted_rows);
                    RETURN NULL;
                END
                $$
                """
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER DELETE ON {table} REFERENCING OLD TABLE AS deleted_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
