"""Use cases for a team's named rooms."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.accounts.models import User
from vidroom.rooms import repository
from vidroom.rooms.models import Privacy, Room
from vidroom.teams import repository as team_repository
from vidroom.teams import service as teams
from vidroom.teams.models import Team
from vidroom.teams.names import check_room_name

PIN_ATTEMPTS = 64


def check_privacy(value: object) -> Privacy:
    if isinstance(value, str):
        try:
            return Privacy(value)
        except ValueError:
            pass
    choices = ", ".join(p.value for p in Privacy)
    raise errors.invalid("privacy_invalid", f"privacy must be one of: {choices}")


def _random_pin() -> str:
    # 100000-999999: six digits that never start with 0, so no caller's keypad drops one.
    return str(100_000 + secrets.randbelow(900_000))


async def _free_pin(session: AsyncSession) -> str:
    for _ in range(PIN_ATTEMPTS):
        pin = _random_pin()
        if not await repository.pin_taken(session, pin):
            return pin
    raise errors.VidroomError(
        errors.ErrorKind.unavailable, "pins_exhausted", "no free dial-in PIN could be found"
    )


async def list_rooms(session: AsyncSession, team: Team) -> Sequence[Room]:
    return await repository.rooms_of(session, team.id)


async def get(session: AsyncSession, team: Team, name: str) -> Room:
    room = await repository.room_by_name(session, team.id, name) if len(name) <= 64 else None
    if room is None:
        raise errors.not_found("room_not_found", f"no room named '{name}' in team '{team.name}'")
    return room


async def create(
    session: AsyncSession, team: Team, actor: User, *, name: object, privacy: object = None
) -> Room:
    """Any member may create a room; the PIN is unique across the installation."""
    await teams.require_member(session, team, actor)
    name = check_room_name(team.name, name)
    level = Privacy.org if privacy is None else check_privacy(privacy)
    if await repository.room_by_name(session, team.id, name) is not None:
        raise errors.conflict("room_name_taken", f"team '{team.name}' has a room named '{name}'")
    for _ in range(3):
        room = Room(
            team_id=team.id,
            name=name,
            name_key=name.lower(),
            privacy=level.value,
            dial_in_pin=await _free_pin(session),
        )
        try:
            async with session.begin_nested():
                session.add(room)
                await session.flush()
        except IntegrityError:
            # a concurrent request took the name or the PIN between our check and insert
            if await repository.room_by_name(session, team.id, name) is not None:
                raise errors.conflict(
                    "room_name_taken", f"team '{team.name}' has a room named '{name}'"
                ) from None
            continue
        return room
    raise errors.VidroomError(
        errors.ErrorKind.unavailable, "pins_exhausted", "no free dial-in PIN could be found"
    )


async def set_privacy(
    session: AsyncSession, team: Team, actor: User, name: str, privacy: object
) -> Room:
    level = check_privacy(privacy)
    await teams.require_owner(session, team, actor)
    room = await get(session, team, name)
    room.privacy = level.value
    await session.flush()
    return room


async def delete(session: AsyncSession, team: Team, actor: User, name: str) -> None:
    await teams.require_owner(session, team, actor)
    room = await get(session, team, name)
    await session.delete(room)
    await session.flush()


async def may_enter(session: AsyncSession, team: Team, room: Room, user: User | None) -> bool:
    """Whether ``user`` (None: anonymous) may open the room's meeting page."""
    if room.privacy == Privacy.public.value:
        return True
    if user is None:
        return False
    membership = await team_repository.membership(session, team.id, user.id)
    if membership is None:
        return False
    return room.privacy == Privacy.org.value or membership.role == "owner"
