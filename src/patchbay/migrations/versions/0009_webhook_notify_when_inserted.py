"""webhook deliveries notify only when rows were inserted

The deliveries' statement-level trigger (0005) sent NOTIFY patchbay_webhooks after every INSERT
statement on webhook_deliveries, even one that inserted nothing: PostgreSQL fires statement-level
triggers whatever the row count. PostgreSQL's one-statement create carries the outbox's insert of
deliveries in every create (patchbay.integration.repository), most of them inserting no row, and each
such NOTIFY woke every worker's delivery loop for nothing. The trigger now reads its transition table
and notifies only when the statement inserted a delivery. PostgreSQL only, as 0005's trigger.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FUNCTION = "patchbay_notify_webhook_deliveries"
TRIGGER = "webhook_deliveries_notify"


def _function(body: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END
        $$
        """


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON webhook_deliveries")
    op.execute(
        _function(
            "IF EXISTS (SELECT 1 FROM inserted_deliveries) THEN "
            "PERFORM pg_notify('patchbay_webhooks', ''); END IF;"
        )
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON webhook_deliveries "
        f"REFERENCING NEW TABLE AS inserted_deliveries "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON webhook_deliveries")
    op.execute(_function("PERFORM pg_notify('patchbay_webhooks', '');"))
    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON webhook_deliveries "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
    )
