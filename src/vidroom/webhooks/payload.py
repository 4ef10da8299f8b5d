"""Webhook types and payloads: which domain events become which webhook, and the exact body.

Envelope (spec §4): ``{"timestamp": <unix seconds>, "type": "<type>", "<resource>": {...}}``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.api.eyeson import shapes
from vidroom.broadcasts.models import Broadcast
from vidroom.events import catalogue as ev
from vidroom.meetings.models import Meeting, Participant

ROOM_UPDATE = "room_update"
PARTICIPANT_UPDATE = "participant_update"
BROADCAST_UPDATE = "broadcast_update"  # the legacy name (spec §4); one broadcast a delivery

# types that fire today
ACTIVE_TYPES = (ROOM_UPDATE, PARTICIPANT_UPDATE, BROADCAST_UPDATE)
# accepted at registration for older clients; they never fire (yet)
LEGACY_TYPES = (
    "recording_update",
    "snapshot_update",
    "presentation_update",
    "user_update",
    "document_update",
    "team_update",
)
KNOWN_TYPES = (*ACTIVE_TYPES, *LEGACY_TYPES)


def webhook_type(event: ev.Event) -> str | None:
    """The webhook type ``event`` is delivered as, or None when webhooks do not carry it."""
    if isinstance(event, ev.MeetingStarted | ev.MeetingReady | ev.MeetingEnded):
        return ROOM_UPDATE
    if isinstance(event, ev.ParticipantChanged):
        return PARTICIPANT_UPDATE
    if isinstance(event, ev.BroadcastChanged):
        return BROADCAST_UPDATE
    return None


async def build(session: AsyncSession, event: ev.Event) -> tuple[str, str] | None:
    """(type, exact JSON body) for ``event``, read inside the emitting transaction."""
    kind = webhook_type(event)
    if kind is None:
        return None
    meeting = await session.get(Meeting, event.meeting_id)
    if meeting is None:
        return None
    resource: dict[str, Any]
    if kind == ROOM_UPDATE:
        resource = shapes.room_info(meeting)
        if isinstance(event, ev.MeetingEnded):
            resource["shutdown"] = True
        key = "room"
    elif isinstance(event, ev.BroadcastChanged):
        found = await _broadcast(session, event, meeting)
        if found is None:
            return None
        resource, key = found, "broadcast"
    else:
        assert isinstance(event, ev.ParticipantChanged)
        participant = await session.get(Participant, event.participant_id)
        if participant is None:
            return None
        resource = shapes.participant_info(participant, meeting)
        resource["online"] = event.online
        key = "participant"
    body = {"timestamp": int(event.at.timestamp()), "type": kind, key: resource}
    return kind, json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def _broadcast(
    session: AsyncSession, event: ev.BroadcastChanged, meeting: Meeting
) -> dict[str, Any] | None:
    """§2.6 as of the event (with ``state``, ``reconnects`` and, once over, ``reason``)."""
    row = await session.get(Broadcast, event.broadcast_id)
    if row is None:
        return None
    user = await session.get(Participant, row.participant_id) if row.participant_id else None
    resource = shapes.broadcast_object(row, user, meeting)
    resource["event"] = event.type
    resource["reason"] = event.reason
    return resource
