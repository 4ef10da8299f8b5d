"""A task cancelled mid-statement on SQLite ends at once and leaves the database unlocked."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from sqlalchemy import text

from vidroom.db.engine import create_engine

# a statement that keeps SQLite's worker thread busy for about two seconds
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) "
    "SELECT count(*) FROM c"
)


async def test_cancelling_a_task_mid_query_does_not_wait_for_the_query(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    started = time.monotonic()
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    quick = time.monotonic() - started

    async def slow() -> None:
        async with engine.connect() as connection:
            await connection.execute(text(SLOW))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)  # the statement runs in the worker thread
    task.cancel()
    cancelled_at = time.monotonic()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    # ending the task does not wait for the statement (seconds), only for the loop to turn
    assert time.monotonic() - cancelled_at < 1.0 + quick
    # the abandoned statement's write lock is released: the next writer (BEGIN IMMEDIATE)
    # gets it without waiting out the busy timeout (it failed with 'database is locked')
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 2"))).scalar() == 2
    await engine.dispose()


def test_an_abandoned_connection_is_closed_before_its_loop_ends(tmp_path: Path) -> None:
    """Its worker thread reports nothing into a closed loop (it did when the close was left to
    finish alone: an exception in the thread, and a warning in whichever test came next)."""
    failures: list[threading.ExceptHookArgs] = []
    hook = threading.excepthook
    threading.excepthook = failures.append
    before = set(threading.enumerate())
    try:

        async def scenario() -> None:
            engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

            async def slow() -> None:
                async with engine.connect() as connection:
                    await connection.execute(text(SLOW))

            task = asyncio.create_task(slow())
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()

        asyncio.run(scenario())  # the loop closes as soon as the scenario is done
        for thread in set(threading.enumerate()) - before:
            thread.join(10)
    finally:
        threading.excepthook = hook
    assert [f.exc_value for f in failures] == []
