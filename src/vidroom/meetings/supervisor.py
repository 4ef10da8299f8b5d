"""Keeps running meetings honest: readies new ones and ends those nobody is present in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.db.uow import Database
from vidroom.kit.clock import utc_now
from vidroom.meetings import live, repository
from vidroom.meetings.models import Meeting, Participant

log = logging.getLogger(__name__)


async def expired_meetings(
    session: AsyncSession, *, now: datetime, presence: timedelta, grace: timedelta
) -> list[Meeting]:
    """Running meetings nobody has been present in for longer than the grace period."""
    found = []
    for meeting in await repository.running_meetings(session):
        last = await repository.last_seen(session, meeting.id) or meeting.started_at
        if last < now - presence - grace:
            found.append(meeting)
    return found


async def stale_participants(
    session: AsyncSession, meeting: Meeting, *, now: datetime, presence: timedelta
) -> list[Participant]:
    """Participants marked online whose presence has lapsed (e.g. after a crash)."""
    return [
        p
        for p in await repository.participants_of(session, meeting.id, True)
        if p.last_seen_at < now - presence
    ]


class MeetingSupervisor:
    def __init__(
        self, db: Database, *, grace_seconds: float, presence_seconds: float, interval: float = 5.0
    ) -> None:
        self.db = db
        self.grace = timedelta(seconds=grace_seconds)
        self.presence = timedelta(seconds=presence_seconds)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def prepare(self, meeting_id: str) -> None:
        """Make a new meeting ready (the media side joins in here once it exists)."""
        async with self.db.uow() as uow:
            await live.mark_ready(uow, meeting_id)

    async def sweep(self) -> list[str]:
        """One pass: lapse stale presences, end meetings empty for longer than the grace."""
        now = utc_now()
        ended: list[str] = []
        async with self.db.uow() as uow:
            for meeting in await repository.running_meetings(uow.session):
                for participant in await stale_participants(
                    uow.session, meeting, now=now, presence=self.presence
                ):
                    await live.set_online(uow, participant, False)
            for meeting in await expired_meetings(
                uow.session, now=now, presence=self.presence, grace=self.grace
            ):
                await live.end(uow, meeting, reason="empty")
                ended.append(meeting.id)
        return ended

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("meeting sweep failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="meeting-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
