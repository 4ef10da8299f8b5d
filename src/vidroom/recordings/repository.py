"""Every query on recordings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.meetings.models import Meeting
from vidroom.recordings.models import Recording


async def running(session: AsyncSession, meeting_id: str) -> Recording | None:
    result = await session.execute(
        select(Recording).where(Recording.meeting_id == meeting_id, Recording.stopped_at.is_(None))
    )
    return result.scalars().first()


async def all_running(session: AsyncSession) -> Sequence[Recording]:
    result = await session.execute(select(Recording).where(Recording.stopped_at.is_(None)))
    return result.scalars().all()


async def of_team(
    session: AsyncSession,
    team_id: str,
    *,
    meeting_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 25,
) -> Sequence[Recording]:
    query = select(Recording).where(Recording.team_id == team_id)
    if meeting_ids is not None:
        query = query.where(Recording.meeting_id.in_(meeting_ids))
    if since is not None:
        query = query.where(Recording.created_at >= since)
    if until is not None:
        query = query.where(Recording.created_at <= until)
    query = query.order_by(Recording.created_at.desc(), Recording.id).offset(offset).limit(limit)
    return (await session.execute(query)).scalars().all()


async def older_than(
    session: AsyncSession, when: datetime, limit: int = 200
) -> Sequence[Recording]:
    result = await session.execute(
        select(Recording)
        .where(Recording.created_at < when, Recording.stopped_at.is_not(None))
        .limit(limit)
    )
    return result.scalars().all()


async def running_count(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(Recording).where(Recording.stopped_at.is_(None))
    )
    return int(result.scalar_one())


async def meetings_of_room(
    session: AsyncSession, team_id: str, room_key: str, started_at: datetime | None = None
) -> list[str]:
    """Ids of the team's meetings of a room id (``started_at``: the one instance that began
    then, to the second)."""
    query = select(Meeting.id, Meeting.started_at).where(
        Meeting.team_id == team_id, Meeting.room_key == room_key
    )
    rows = (await session.execute(query)).all()
    if started_at is None:
        return [row[0] for row in rows]
    want = int(started_at.timestamp())
    return [row[0] for row in rows if int(row[1].timestamp()) == want]
