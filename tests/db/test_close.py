"""Closing the engine lets the statements still running finish first (bounded)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

from vidroom.db.engine import close_engine, create_engine


async def test_close_waits_for_a_connection_in_use(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    finished: list[float] = []

    async def busy() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.5)
            assert (await connection.execute(text("SELECT 2"))).scalar() == 2
        finished.append(time.monotonic())

    task = asyncio.create_task(busy())
    await asyncio.sleep(0.1)
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    await close_engine(engine)
    closed = time.monotonic()
    assert finished
    assert finished[0] <= closed
    await task
