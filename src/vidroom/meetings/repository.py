"""Every query on meetings and attendances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.meetings.models import Meeting, MeetingAttendance


async def meetings_between(
    session: AsyncSession,
    team_id: str,
    *,
    start: datetime,
    end: datetime,
    room_name: str | None,
) -> Sequence[Meeting]:
    """Meetings of a team that overlap [start, end], oldest first."""
    query = select(Meeting).where(
        Meeting.team_id == team_id,
        Meeting.started_at <= end,
        (Meeting.ended_at.is_(None)) | (Meeting.ended_at >= start),
    )
    if room_name is not None:
        query = query.where(Meeting.room_name == room_name)
    result = await session.execute(query.order_by(Meeting.started_at, Meeting.id))
    return result.scalars().all()


async def attendances(
    session: AsyncSession, meeting_ids: Sequence[str]
) -> Sequence[MeetingAttendance]:
    if not meeting_ids:
        return []
    result = await session.execute(
        select(MeetingAttendance)
        .where(MeetingAttendance.meeting_id.in_(meeting_ids))
        .order_by(MeetingAttendance.joined_at, MeetingAttendance.id)
    )
    return result.scalars().all()


async def open_attendance(
    session: AsyncSession, meeting_id: str, participant_key: str
) -> MeetingAttendance | None:
    result = await session.execute(
        select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting_id,
            MeetingAttendance.participant_key == participant_key,
            MeetingAttendance.left_at.is_(None),
        )
    )
    return result.scalars().first()


async def open_attendances(session: AsyncSession, meeting_id: str) -> Sequence[MeetingAttendance]:
    result = await session.execute(
        select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.left_at.is_(None)
        )
    )
    return result.scalars().all()
