"""What a meeting's room response and observer update say of its recording and snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.api.eyeson import shapes
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.playbacks import Playbacks
from vidroom.recordings import repository
from vidroom.settings import Settings
from vidroom.snapshots import service as snapshots


async def recording_of(
    session: AsyncSession, settings: Settings, meeting: Meeting
) -> dict[str, Any] | None:
    """The meeting's running recording (§2.4), or None."""
    row = await repository.running(session, meeting.id)
    if row is None or row.state != "recording":
        return None
    user = await session.get(Participant, row.participant_id) if row.participant_id else None
    return shapes.recording_object(settings, row, user, meeting)


async def snapshots_of(
    session: AsyncSession, settings: Settings, meeting: Meeting
) -> list[dict[str, Any]]:
    out = []
    for row in await snapshots.of_meeting(session, meeting.id):
        user = await session.get(Participant, row.participant_id) if row.participant_id else None
        out.append(shapes.snapshot_object(settings, row, user, meeting))
    return out


async def room_fields(
    session: AsyncSession,
    settings: Settings,
    meeting: Meeting,
    playbacks: Playbacks | None = None,
) -> dict[str, Any]:
    """``broadcasts``, ``recording``, ``snapshots`` and ``playbacks`` (playing now, from
    ``playbacks``) of the room response (§2.1)."""
    from vidroom.api.eyeson.broadcasts import running

    return {
        "playbacks": playbacks.playing(meeting.id) if playbacks is not None else [],
        "broadcasts": await running(session, meeting),
        "recording": await recording_of(session, settings, meeting),
        "snapshots": await snapshots_of(session, settings, meeting),
    }
