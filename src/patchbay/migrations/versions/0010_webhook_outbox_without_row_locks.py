"""webhook outbox: writes that take no shared lock (PostgreSQL)

What publishing added to a create was mostly PostgreSQL coordinating concurrent writers, not writing
two rows (docs/benchmarks.md, "Publishing"). Two changes on PostgreSQL (SQLite has one writer), and
one index fewer on both backends:

1. NOTIFY at most once per 20 ms. 0009's trigger notified after every statement that inserted a
   delivery: under load, once per create, and PostgreSQL signals every listening backend of the
   database at each such commit (the delivery loops' and the caller caches'). Now a deferred
   constraint trigger runs at commit and notifies only when no commit did in the last 20 ms. A
   delivery loop woken by a notification claims again a little later
   (patchbay.webhook.delivery.RECHECK_AFTER), which takes whatever committed in those 20 ms without a
   notification of its own; the poll still covers anything else. The last notification's time
   (milliseconds since the epoch) is kept in a sequence: read and set without a row lock, so
   concurrent commits never wait for one another (two that race both notify, which is harmless).

2. No foreign keys from the outbox's rows. Each checked one took a KEY SHARE lock at every insert,
   and every create of a subscribed project locked the same endpoint row: concurrent lockers of one
   row make PostgreSQL build and log a new multixact each time. The cascades they gave are kept by
   triggers: deleting an endpoint deletes its deliveries, deleting an event its deliveries, deleting
   a project its events (its endpoints still go by their own foreign key). A delivery written for an
   endpoint deleted in the same instant is left without one: no claim takes it (the claim joins the
   enabled endpoint) and the pruner removes it after 30 days.

3. Deliveries lose their created_at index (one fewer to write per delivery): the pruner now deletes
   events by age and their deliveries with them, through the event_id index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NOTIFY_FUNCTION = "patchbay_notify_webhook_deliveries"
NOTIFY_TRIGGER = "webhook_deliveries_notify"
SEQUENCE = "webhook_notified_at_ms"
SPACING_MS = 20

# (table, its foreign key's constraint name, the parent table and what to delete with a parent row)
FOREIGN_KEYS = (
    ("webhook_deliveries", "fk_webhook_deliveries_endpoint_id_webhook_endpoints", "webhook_endpoints",
     "endpoint_id"),
    ("webhook_deliveries", "fk_webhook_deliveries_event_id_webhook_events", "webhook_events", "event_id"),
    ("webhook_events", "fk_webhook_events_project_id_projects", "projects", "project_id"),
)  # fmt: skip


def _cascade_names(table: str, parent: str) -> tuple[str, str]:
    """(function, trigger) that delete `table`'s rows with their `parent` row."""
    return f"patchbay_delete_{table}_of_{parent}", f"{parent}_delete_{table}"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_created_at")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {NOTIFY_TRIGGER} ON webhook_deliveries")
    op.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint MINVALUE 0 START 0")
    # A clock that went back (now before the last notification) notifies too, then counts from there.
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
            last_ms bigint := (SELECT last_value FROM {SEQUENCE});
        BEGIN
            IF now_ms - last_ms >= {SPACING_MS} OR now_ms < last_ms THEN
                PERFORM setval('{SEQUENCE}', now_ms);
                PERFORM pg_notify('patchbay_webhooks', '');
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"CREATE CONSTRAINT TRIGGER {NOTIFY_TRIGGER} AFTER INSERT ON webhook_deliveries "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {NOTIFY_FUNCTION}()"
    )
    for table, constraint, parent, column in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        function, trigger = _cascade_names(table, parent)
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM {table} WHERE {column} IN (SELECT id FROM deleted_rows);
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER DELETE ON {parent} REFERENCING OLD TABLE AS deleted_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_created_at", ["created_at"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, constraint, parent, column in reversed(FOREIGN_KEYS):
        function, trigger = _cascade_names(table, parent)
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {parent}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute(f"DELETE FROM {table} WHERE {column} NOT IN (SELECT id FROM {parent})")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} FOREIGN KEY ({column}) "
            f"REFERENCES {parent} (id) ON DELETE CASCADE"
        )
    op.execute(f"DROP TRIGGER IF EXISTS {NOTIFY_TRIGGER} ON webhook_deliveries")
    op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM inserted_deliveries) THEN
                PERFORM pg_notify('patchbay_webhooks', '');
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {NOTIFY_TRIGGER} AFTER INSERT ON webhook_deliveries "
        f"REFERENCING NEW TABLE AS inserted_deliveries "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {NOTIFY_FUNCTION}()"
    )
