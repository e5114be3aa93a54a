"""sqlite autoincrement

On SQLite, an INTEGER PRIMARY KEY without AUTOINCREMENT hands the highest deleted id to the next row:
create, delete, create gave a different account the same integration id. Every table with an integer
id is rebuilt with AUTOINCREMENT (batch mode: a copy with the rows, indexes and constraints, then a
swap). Copying the rows sets sqlite_sequence to max(id), so no id below the high-water mark comes
back. PostgreSQL's sequences never reuse ids: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Parents first; env.py turns SQLite's foreign key enforcement off while migrating, so dropping a
# parent table during its rebuild neither cascades nor fails.
TABLES = ("users", "projects", "organization_memberships", "integrations")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
