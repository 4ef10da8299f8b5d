"""Unit of work: one session per request or job; commit once; run hooks after the commit.

Services never commit. The edge (an HTTP handler, a websocket message, a worker job) opens a
unit of work, calls services with its session, and the unit commits when the block succeeds.

``Database.uow()`` may write; ``Database.reader()`` only reads (it refuses to flush changes) and
on SQLite never waits for the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from vidroom.events.catalogue import Event
    from vidroom.events.hub import EventHub

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        events: EventHub | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._events = events
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
        if exc_type is None:
            hooks, self._after_commit = self._after_commit, []
            for hook in hooks:
                try:
                    await hook()
                except Exception:
                    log.exception("after-commit hook failed")


class Database:
    """The engine's session factories, handing out units of work.

    ``read_sessionmaker`` makes the sessions of :meth:`reader` (default: ``sessionmaker``).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        events: EventHub | None = None,
        *,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.events = events

    def uow(self) -> UnitOfWork:
        """A unit of work that may write."""
        return UnitOfWork(self.sessionmaker, self.events)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads (flushing a change raises); its ephemeral events
        (e.g. chat messages, which write no row) are still published after it ends."""
        return UnitOfWork(self.read_sessionmaker, self.events)
