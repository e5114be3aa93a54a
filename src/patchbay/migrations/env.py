from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from patchbay.kit.db import create_engine
from patchbay.models import Base

config = context.config
target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copy, drop and rename: with foreign keys enforced, dropping a
        # parent would cascade into its children. Off for the run (outside a transaction, where
        # SQLite honours it), and every reference checked once the run is over.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        on_version_apply=config.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run() -> None:
    engine = create_engine(config.attributes["database_url"])
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
asyncio.run(_run())
