"""Unit of work: one session per request or job; commit once; run hooks after the commit.

Services never commit. The edge (an HTTP handler, a websocket message, a worker job) opens a
unit of work, calls services with its session, and the unit commits when the block succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
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
            await session.close()
            self._session = None
        if exc_type is None:
            hooks, self._after_commit = self._after_commit, []
            for hook in hooks:
                try:
                    await hook()
                except Exception:
                    log.exception("after-commit hook failed")


class Database:
    """The engine's session factory, handing out units of work."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)
