"""Every query on broadcasts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.broadcasts.models import Broadcast
from vidroom.meetings.models import Participant


async def add(session: AsyncSession, row: Broadcast) -> Broadcast:
    session.add(row)
    await session.flush()
    return row


async def running(session: AsyncSession, meeting_id: str) -> Broadcast | None:
    result = await session.execute(
        select(Broadcast).where(Broadcast.meeting_id == meeting_id, Broadcast.ended_at.is_(None))
    )
    return result.scalars().first()


async def running_with_users(
    session: AsyncSession, meeting_id: str
) -> Sequence[tuple[Broadcast, Participant | None]]:
    """The meeting's running broadcasts (at most one today) with who started them."""
    result = await session.execute(
        select(Broadcast, Participant)
        .outerjoin(Participant, Participant.id == Broadcast.participant_id)
        .where(Broadcast.meeting_id == meeting_id, Broadcast.ended_at.is_(None))
        .order_by(Broadcast.created_at, Broadcast.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def by_id(session: AsyncSession, broadcast_id: str) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def totals(session: AsyncSession) -> tuple[int, int]:
    """Broadcasts running now, and reconnects of every broadcast ever (for metrics)."""
    result = await session.execute(
        select(
            func.count().filter(Broadcast.ended_at.is_(None)),
            func.coalesce(func.sum(Broadcast.reconnects), 0),
        )
    )
    running_now, reconnects = result.one()
    return int(running_now), int(reconnects)
