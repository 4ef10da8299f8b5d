"""Meeting history: record who joined and left when; answer the team API's history query.

The media side calls ``start``, ``joined``, ``left`` and ``end`` as people come and go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id
from vidroom.meetings import repository
from vidroom.meetings.models import Meeting, MeetingAttendance

HISTORY_PAGE = 100


@dataclass(frozen=True)
class Stay:
    who: str  # the participant's email, or "guest"
    joined: datetime
    left: datetime | None


@dataclass(frozen=True)
class MeetingSession:
    """A meeting as the history reports it: from the second join to the next-to-last leave."""

    meeting_id: str
    room: str
    start: datetime
    end: datetime | None
    stays: tuple[Stay, ...]


async def start(
    session: AsyncSession,
    *,
    team_id: str,
    room_id: str | None,
    room_name: str,
    room_key: str | None = None,
) -> Meeting:
    """A meeting record (the meeting API starts meetings through ``live.start_or_join``)."""
    meeting = Meeting(
        team_id=team_id,
        room_id=room_id,
        room_name=room_name,
        room_key=room_key or new_id(),
        started_at=utc_now(),
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def joined(
    session: AsyncSession,
    meeting: Meeting,
    *,
    participant_key: str,
    user_id: str | None = None,
    email: str | None = None,
    display_name: str = "",
    at: datetime | None = None,
) -> MeetingAttendance:
    """Record that a participant is in the meeting (a second call while present is a no-op)."""
    present = await repository.open_attendance(session, meeting.id, participant_key)
    if present is not None:
        return present
    row = MeetingAttendance(
        meeting_id=meeting.id,
        participant_key=participant_key,
        user_id=user_id,
        email=email,
        display_name=display_name[:200],
        joined_at=at or utc_now(),
    )
    session.add(row)
    await session.flush()
    return row


async def left(
    session: AsyncSession, meeting: Meeting, *, participant_key: str, at: datetime | None = None
) -> None:
    present = await repository.open_attendance(session, meeting.id, participant_key)
    if present is not None:
        present.left_at = at or utc_now()
        await session.flush()


async def end(session: AsyncSession, meeting: Meeting, *, at: datetime | None = None) -> None:
    when = at or utc_now()
    for row in await repository.open_attendances(session, meeting.id):
        row.left_at = when
    if meeting.ended_at is None:
        meeting.ended_at = when
    await session.flush()


def session_of(meeting: Meeting, rows: Sequence[MeetingAttendance]) -> MeetingSession | None:
    """Sweep joins and leaves: the session runs from when two people were first together to
    when the count last fell below two. A meeting nobody shared is not in the history."""
    events: list[tuple[datetime, int]] = []
    for row in rows:
        events.append((row.joined_at, 1))
        if row.left_at is not None:
            events.append((row.left_at, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # leaves before joins at the same instant
    count = 0
    first_pair: datetime | None = None
    last_break: datetime | None = None
    for when, delta in events:
        before = count
        count += delta
        if before < 2 <= count and first_pair is None:
            first_pair = when
        if before >= 2 > count:
            last_break = when
    if first_pair is None:
        return None
    end = last_break if count < 2 else None
    stays = tuple(
        Stay(who=row.email or "guest", joined=row.joined_at, left=row.left_at) for row in rows
    )
    return MeetingSession(meeting.id, meeting.room_name, first_pair, end, stays)


async def history(
    session: AsyncSession,
    *,
    team_id: str,
    start: datetime,
    end: datetime,
    room_name: str | None = None,
    limit: int = HISTORY_PAGE,
) -> tuple[list[MeetingSession], bool]:
    """Sessions whose start lies in [start, end], oldest first, at most ``limit``; and whether
    more exist."""
    if end < start:
        raise errors.invalid("range_invalid", "'end' is before 'start'")
    meetings = await repository.meetings_between(
        session, team_id, start=start, end=end, room_name=room_name
    )
    rows = await repository.attendances(session, [m.id for m in meetings])
    by_meeting: dict[str, list[MeetingAttendance]] = {}
    for row in rows:
        by_meeting.setdefault(row.meeting_id, []).append(row)
    found: list[MeetingSession] = []
    for meeting in meetings:
        summary = session_of(meeting, by_meeting.get(meeting.id, []))
        if summary is not None and start <= summary.start <= end:
            found.append(summary)
    found.sort(key=lambda s: (s.start, s.meeting_id))
    return found[:limit], len(found) > limit
