"""auth change notifications

Every change that can alter who a key is and what it may reach (keys, users, projects, memberships)
sends NOTIFY patchbay_auth_changes when it commits, from whichever process makes it (the API, the
CLI, hand-written SQL). Workers drop their cached caller lookups on it (patchbay.auth.cache).
PostgreSQL only: SQLite has no NOTIFY, and Patchbay does not cache lookups there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FUNCTION = "patchbay_notify_auth_changes"

# Statement-level triggers: one notification per statement, and PostgreSQL folds identical
# notifications of a transaction into one. A key's hourly last_used_at stamp does not notify.
TRIGGERS = {
    "personal_api_keys": [
        "AFTER INSERT OR DELETE OR TRUNCATE",
        "AFTER UPDATE OF secure_value, scopes, scoped_projects, scoped_organizations, user_id",
    ],
    "users": ["AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"],
    "projects": ["AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"],
    "organization_memberships": ["AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"],
}


def _trigger_name(table: str, index: int) -> str:
    return f"{table}_auth_changes_{index}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('patchbay_auth_changes', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table, events in TRIGGERS.items():
        for index, when in enumerate(events):
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, index)} {when} ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, events in TRIGGERS.items():
        for index in range(len(events)):
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, index)} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
