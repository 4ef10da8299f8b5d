"""Unit of work: one session per request or job; commit once; run hooks after the commit.

Services never commit. The edge (an HTTP handler, a websocket message, a worker job) opens a
unit of work, calls services with its session, and the unit commits when the block succeeds.

``Database.uow()`` may write; ``Database.reader()`` only reads (it refuses to flush changes) and
on SQLite never waits for the write lock. A :class:`WriteGate` given to ``Database`` makes the
writing units of work of this process take turns on an asyncio lock instead of in SQLite's busy
handler; the app does not use it yet: it is taken when a unit opens, not at its first write, and
a websocket's close handler was seen waiting on it in a test teardown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidroom import errors

if TYPE_CHECKING:
    from vidroom.events.catalogue import Event
    from vidroom.events.hub import EventHub

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


class WriteGate:
    """One writing transaction at a time in this process. Re-entrant for the task holding it
    (a unit of work opened inside another of the same task waits on SQLite, as before)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            self._depth += 1
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise errors.VidroomError(
                errors.ErrorKind.unavailable, "database_busy", "the database is busy; retry"
            ) from None
        self._owner, self._depth = task, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        events: EventHub | None = None,
        *,
        gate: WriteGate | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._events = events
        self._gate = gate
        self._session: AsyncSession | None = None
        self._after_commit: list[AfterCommit] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work is not open")
        return self._session

    def after_commit(self, hook: AfterCommit) -> None:
        """Run ``hook`` once the transaction has committed (e.g. publish events)."""
        self._after_commit.append(hook)

    async def emit(self, event: Event) -> None:
        """Record ``event`` in this transaction (outbox, webhook deliveries); publish it on the
        bus once the transaction has committed."""
        if self._events is None:
            raise RuntimeError("this unit of work has no event hub")
        hub = self._events
        await hub.record(self.session, event)

        async def publish() -> None:
            await hub.publish(event)

        self.after_commit(publish)

    async def __aenter__(self) -> UnitOfWork:
        if self._gate is not None:
            await self._gate.acquire()
        self._session = self._sessionmaker()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                await session.commit()
            else:
                await session.rollback()
        finally:
            try:
                await session.close()
            finally:
                self._session = None
                if self._gate is not None:
                    self._gate.release()
        if exc_type is None:
            hooks, self._after_commit = self._after_commit, []
            for hook in hooks:
                try:
                    await hook()
                except Exception:
                    log.exception("after-commit hook failed")


class Database:
    """The engine's session factories, handing out units of work.

    ``read_sessionmaker`` makes the sessions of :meth:`reader` (default: ``sessionmaker``);
    ``gate``, when given, serialises the writing units of work (SQLite).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        events: EventHub | None = None,
        *,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        gate: WriteGate | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.events = events
        self.gate = gate

    def uow(self) -> UnitOfWork:
        """A unit of work that may write."""
        return UnitOfWork(self.sessionmaker, self.events, gate=self.gate)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads (flushing a change raises); its ephemeral events
        (e.g. chat messages, which write no row) are still published after it ends."""
        return UnitOfWork(self.read_sessionmaker, self.events)
