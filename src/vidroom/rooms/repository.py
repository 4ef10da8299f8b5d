"""Every query on rooms."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.rooms.models import Room


async def rooms_of(session: AsyncSession, team_id: str) -> Sequence[Room]:
    result = await session.execute(
        select(Room).where(Room.team_id == team_id).order_by(Room.created_at, Room.name_key)
    )
    return result.scalars().all()


async def room_by_name(session: AsyncSession, team_id: str, name: str) -> Room | None:
    result = await session.execute(
        select(Room).where(Room.team_id == team_id, Room.name_key == name.lower())
    )
    return result.scalar_one_or_none()


async def pin_taken(session: AsyncSession, pin: str) -> bool:
    result = await session.execute(select(Room.id).where(Room.dial_in_pin == pin))
    return result.first() is not None
