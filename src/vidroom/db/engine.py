"""Engine construction: SQLite (WAL, foreign keys) by default, PostgreSQL via asyncpg.

SQLite has one writer at a time. A writing transaction begins ``IMMEDIATE`` (it takes the write
lock at once, so it never fails later on a lock upgrade); a read-only session (from
:func:`create_read_sessionmaker`) issues no ``BEGIN``: each of its statements is an implicit read
transaction on a WAL snapshot, which never waits for a writer (one statement sees one snapshot;
two statements may see two).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import Session

# execution option marking a read-only engine view (see create_read_sessionmaker)
READ_ONLY = "vidroom_read_only"
# pooled SQLite connections (SQLAlchemy's defaults): every aiosqlite connection is a thread, and
# more of them contending for the GIL measured no faster (20 + 10 against 5 + 10 under wrk)
SQLITE_POOL_SIZE = 5
SQLITE_MAX_OVERFLOW = 10
# how long an abandoned SQLite connection may take to close (see _abandon_cancelled_connections)
ABANDON_SECONDS = 5.0
CLOSE_SECONDS = 12.0  # longer than SQLite's busy timeout (10 s): a waiting statement ends first


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe for working SAVEPOINTs and real transactions on pysqlite: stop the
    # driver from issuing its own BEGIN, and issue one ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock at the start, so that concurrent writers wait (busy
    # timeout) instead of failing when a read transaction later tries to write. Read-only
    # sessions never write: they issue no BEGIN, so each of their statements reads its own WAL
    # snapshot (an implicit read transaction) without the lock, and costs no extra round trip.
    if not connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _abandon_cancelled_connections() -> None:
    """A task cancelled mid-statement on SQLite must not leave the database locked.

    SQLAlchemy terminates the connection of a task cancelled mid-statement by awaiting
    aiosqlite's ``close()`` under ``asyncio.shield``. The statement still runs in the
    connection's worker thread meanwhile, and ``sqlite3`` closes a connection with an unfinished
    statement lazily (``sqlite3_close_v2`` leaves a "zombie" until the statement is finalised)
    and without rolling back: its write lock (``BEGIN IMMEDIATE``) stayed held, every later
    writer waited out the busy timeout and failed, and a loop shutting down waited on the
    shielded close. CI saw a test's teardown hang until pytest-timeout (600 s) that way.

    So the abandoned connection's statement is interrupted (``sqlite3.Connection.interrupt``,
    made to be called from another thread), which ends it at once; its transaction is rolled
    back in its worker thread, which releases the lock; then aiosqlite's close is awaited as
    before, which is now quick, and which must finish while the loop runs (a worker left to
    finish alone would report into a closed loop). Should it still take longer than
    ``ABANDON_SECONDS``, SQLAlchemy's own fallback stops the worker without waiting.
    (This reaches into aiosqlite's worker queue, ``_tx``: neither library offers it.)
    """
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection

    adapter: Any = AsyncAdapt_aiosqlite_connection
    if getattr(adapter, "_vidroom_abandons", False):
        return
    close = adapter._terminate_graceful_close

    async def abandon(self: Any) -> None:
        worker = self._connection  # aiosqlite's connection: a queue served by one thread
        raw = getattr(worker, "_connection", None)  # its sqlite3 connection
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.interrupt()

            def roll_back() -> None:  # in the worker thread, once the statement has ended
                with contextlib.suppress(Exception):
                    raw.rollback()

            worker._tx.put_nowait((None, roll_back))
        await asyncio.wait_for(close(self), ABANDON_SECONDS)  # TimeoutError: force close

    adapter._terminate_graceful_close = abandon
    adapter._vidroom_abandons = True


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _abandon_cancelled_connections()
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_MAX_OVERFLOW,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class ReadOnlySession(Session):
    """A session that refuses to flush changes: reads only (see ``Database.reader``)."""


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only unit of work tried to write; use Database.uow()")


event.listen(ReadOnlySession, "before_flush", _refuse_writes)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-only units of work: on SQLite without BEGIN (no write lock)."""
    return async_sessionmaker(
        engine.execution_options(**{READ_ONLY: True}),
        expire_on_commit=False,
        autoflush=True,
        sync_session_class=ReadOnlySession,
    )


async def close_engine(engine: AsyncEngine, wait: float = CLOSE_SECONDS) -> None:
    """Dispose of ``engine`` once the connections in use are back (at most ``wait`` seconds).

    ``dispose()`` closes only the idle connections. A statement still running for a task that
    is finishing (a websocket's last presence write during shutdown, say) would otherwise end
    in its aiosqlite worker thread after the event loop has gone, and its result, or its
    error, would be reported into a closed loop and lost. So in-flight work gets to finish.
    """
    pool: Any = engine.pool
    checked_out = getattr(pool, "checkedout", None)
    deadline = asyncio.get_running_loop().time() + wait
    while callable(checked_out) and checked_out() > 0:
        if asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.05)
    await engine.dispose()
