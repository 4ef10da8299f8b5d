"""Every query on meeting files."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.files.models import MeetingFile

MAX_LISTED = 1000


async def add(session: AsyncSession, row: MeetingFile) -> MeetingFile:
    session.add(row)
    await session.flush()
    return row


async def of_meeting(session: AsyncSession, meeting_id: str) -> Sequence[MeetingFile]:
    """The meeting's files, oldest first."""
    result = await session.execute(
        select(MeetingFile)
        .where(MeetingFile.meeting_id == meeting_id)
        .order_by(MeetingFile.created_at, MeetingFile.id)
        .limit(MAX_LISTED)
    )
    return result.scalars().all()


async def count_of_meeting(session: AsyncSession, meeting_id: str) -> int:
    result = await session.execute(
        select(func.count()).select_from(MeetingFile).where(MeetingFile.meeting_id == meeting_id)
    )
    return int(result.scalar_one())


async def in_meeting(session: AsyncSession, meeting_id: str, file_id: str) -> MeetingFile | None:
    """A file by id, only if it belongs to the meeting."""
    result = await session.execute(
        select(MeetingFile).where(MeetingFile.id == file_id, MeetingFile.meeting_id == meeting_id)
    )
    return result.scalars().first()


async def remove(session: AsyncSession, row: MeetingFile) -> None:
    await session.delete(row)
    await session.flush()
