"""What a meeting's room response and observer update say of its recording and snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.api.eyeson import shapes
from vidroom.media.contract import MediaControl
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


def presenter_of(media: MediaControl, meeting_id: str) -> str | None:
    """The participant id of who presents now, as the media server says."""
    current = next((m for m in media.members(meeting_id) if m.presenting), None)
    return current.participant_id if current is not None else None


async def presentation_of(
    session: AsyncSession, media: MediaControl | None, meeting: Meeting
) -> dict[str, Any] | None:
    """§2.8: who presents now (the media server knows), as ``{user, room}``; None."""
    if media is None:
        return None
    presenter = presenter_of(media, meeting.id)
    if presenter is None:
        return None
    user = await session.get(Participant, presenter)
    if user is None or user.meeting_id != meeting.id:
        return None
    return {"user": shapes.user_summary(user), "room": shapes.room_info(meeting)}


async def room_fields(
    session: AsyncSession,
    settings: Settings,
    meeting: Meeting,
    media: MediaControl | None = None,
    playbacks: Playbacks | None = None,
) -> dict[str, Any]:
    """``broadcasts``, ``recording``, ``snapshots``, ``presentation`` (from the media server's
    state) and ``playbacks`` (playing now, from ``playbacks``) of the room response (§2.1)."""
    from vidroom.api.eyeson.broadcasts import running

    return {
        "presentation": await presentation_of(session, media, meeting),
        "playbacks": playbacks.playing(meeting.id) if playbacks is not None else [],
        "broadcasts": await running(session, meeting),
        "recording": await recording_of(session, settings, meeting),
        "snapshots": await snapshots_of(session, settings, meeting),
    }
