"""Alembic environment: runs on a connection handed over by ``vidroom.db.migrate`` or on a
fresh async engine built from the configured URL (for ``alembic`` on the command line)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from vidroom.db.engine import create_engine
from vidroom.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async(config.get_main_option("sqlalchemy.url") or ""))
