"""integration change notifications

Every update or delete of an integration (a reconnect, a refresh, a health change, a deletion, a
project's cascade) sends NOTIFY patchbay_integration_changes when it commits, from whichever process
makes it. Workers drop the integrations they keep for the proxy and the credentials route on it
(patchbay.integration.repository.CALL_CACHE_CHANNEL). Row-level, so that an INSERT … ON CONFLICT DO
UPDATE that inserted (a create of a new account: nobody can have cached it) notifies nothing, where
a statement-level UPDATE trigger would fire for it; PostgreSQL folds a transaction's identical
notifications into one. PostgreSQL only: Patchbay does not cache on SQLite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FUNCTION = "patchbay_notify_integration_changes"
TRIGGERS = {
    "integrations_changes_rows": "AFTER UPDATE OR DELETE ON integrations FOR EACH ROW",
    "integrations_changes_truncate": "AFTER TRUNCATE ON integrations FOR EACH STATEMENT",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('patchbay_integration_changes', '');
            RETURN NULL;
        END
        $$
        """
    )
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON integrations")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
