"""Every query on meetings and attendances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from vidroom.kit.clock import as_utc
from vidroom.meetings.models import AccessKey, Meeting, MeetingAttendance, Participant
from vidroom.teams.models import Team


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


# --- the meeting API ---------------------------------------------------------------------------


async def running_meeting(session: AsyncSession, team_id: str, room_key: str) -> Meeting | None:
    result = await session.execute(
        select(Meeting).where(
            Meeting.team_id == team_id, Meeting.room_key == room_key, Meeting.ended_at.is_(None)
        )
    )
    return result.scalar_one_or_none()


async def running_meetings(session: AsyncSession, team_id: str | None = None) -> Sequence[Meeting]:
    query = select(Meeting).where(Meeting.ended_at.is_(None))
    if team_id is not None:
        query = query.where(Meeting.team_id == team_id)
    result = await session.execute(query.order_by(Meeting.started_at, Meeting.id))
    return result.scalars().all()


async def meeting_by_guest_token(session: AsyncSession, guest_token: str) -> Meeting | None:
    result = await session.execute(select(Meeting).where(Meeting.guest_token == guest_token))
    return result.scalar_one_or_none()


async def access_key(session: AsyncSession, digest: str) -> AccessKey | None:
    return await session.get(AccessKey, digest)


# the participant asked for by an access key's holder (one alias: its compiled query is cached)
_ASKED = aliased(Participant, name="asked")


async def access(
    session: AsyncSession, digest: str, user: str | None = None
) -> tuple[str, Meeting, Participant, str | None, Participant | None] | None:
    """In one query: the stored hash of an access key, its meeting, its participant, the name of
    the meeting's team, and (with ``user``) the meeting's participant with that user id, else
    with that client id (None: no such participant)."""
    query = (
        select(AccessKey.key_hash, Meeting, Participant, Team.name)
        .select_from(AccessKey)
        .join(Meeting, Meeting.id == AccessKey.meeting_id)
        .join(Participant, Participant.id == AccessKey.participant_id)
        .outerjoin(Team, Team.id == Meeting.team_id)
        .where(AccessKey.key_hash == digest)
    )
    if user is not None:
        other = _ASKED
        query = (
            query.add_columns(other)
            .outerjoin(
                other,
                and_(
                    other.meeting_id == AccessKey.meeting_id,
                    or_(other.user_id == user, other.client_id == user),
                ),
            )
            .order_by(case((other.user_id == user, 0), else_=1))
            .limit(1)
        )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    fields: list[Any] = list(row)  # four columns, five with ``user``
    return fields[0], fields[1], fields[2], fields[3], fields[4] if user is not None else None


async def participant_count(session: AsyncSession, meeting_id: str) -> int:
    result = await session.execute(
        select(func.count()).select_from(Participant).where(Participant.meeting_id == meeting_id)
    )
    return int(result.scalar_one())


async def participant_by_user_id(
    session: AsyncSession, meeting_id: str, user_id: str
) -> Participant | None:
    result = await session.execute(
        select(Participant).where(
            Participant.meeting_id == meeting_id, Participant.user_id == user_id
        )
    )
    return result.scalar_one_or_none()


async def participant_by_client_id(
    session: AsyncSession, meeting_id: str, client_id: str
) -> Participant | None:
    result = await session.execute(
        select(Participant).where(
            Participant.meeting_id == meeting_id, Participant.client_id == client_id
        )
    )
    return result.scalar_one_or_none()


async def participants_of(
    session: AsyncSession, meeting_id: str, online: bool | None = None
) -> Sequence[Participant]:
    query = select(Participant).where(Participant.meeting_id == meeting_id)
    if online is not None:
        query = query.where(Participant.online.is_(online))
    result = await session.execute(query.order_by(Participant.joined_at, Participant.id))
    return result.scalars().all()


async def last_seen(session: AsyncSession, meeting_id: str) -> datetime | None:
    result = await session.execute(
        select(func.max(Participant.last_seen_at)).where(Participant.meeting_id == meeting_id)
    )
    value = result.scalar_one_or_none()
    return as_utc(value) if isinstance(value, datetime) else None


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    """Running meetings, their participants, and those of them online."""
    meetings = await session.execute(
        select(func.count()).select_from(Meeting).where(Meeting.ended_at.is_(None))
    )
    people = await session.execute(
        select(func.count(), func.count().filter(Participant.online.is_(True)))
        .select_from(Participant)
        .join(Meeting, Meeting.id == Participant.meeting_id)
        .where(Meeting.ended_at.is_(None))
    )
    total, online = people.one()
    return int(meetings.scalar_one()), int(total), int(online)
