"""integration change notifications

Every update of what the proxy reads of an integration (a reconnect, a refresh, an error, its
visibility) and every delete (of the row, or of its project) sends NOTIFY
patchbay_integration_changes when it commits, from whichever process makes it; a health check's
stamp does not. Workers drop the integrations they keep for the proxy and the credentials route on it
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
# The columns of IntegrationRepository.get_for_call's statement, its tenant filter included.
READ_COLUMNS = "project_id, kind, integration_id, config, sensitive_config, errors, created_by_id"
TRIGGERS = {
    "integrations_changes_rows": (
        f"AFTER UPDATE OF {READ_COLUMNS} OR DELETE ON integrations FOR EACH ROW"
    ),
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
