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
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.snapshots.models import Snapshot

ROOM_UPDATE = "room_update"
PARTICIPANT_UPDATE = "participant_update"
BROADCAST_UPDATE = "broadcast_update"  # the legacy name (spec §4); one broadcast a delivery
RECORDING_UPDATE = "recording_update"
SNAPSHOT_UPDATE = "snapshot_update"

# types that fire today
ACTIVE_TYPES = (
    ROOM_UPDATE,
    PARTICIPANT_UPDATE,
    BROADCAST_UPDATE,
    RECORDING_UPDATE,
    SNAPSHOT_UPDATE,
)
# accepted at registration for older clients; they never fire (yet)
LEGACY_TYPES = (
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
    if isinstance(event, ev.RecordingChanged):
        return RECORDING_UPDATE
    if isinstance(event, ev.SnapshotCreated):
        return SNAPSHOT_UPDATE
    return None


async def build(
    session: AsyncSession, event: ev.Event, settings: Settings | None = None
) -> tuple[str, str] | None:
    """(type, exact JSON body) for ``event``, read inside the emitting transaction
    (``settings``: for the links of recordings and snapshots; without them those are not
    delivered)."""
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
    elif isinstance(event, ev.RecordingChanged | ev.SnapshotCreated):
        if settings is None:
            return None
        egress = await _egress(session, settings, event, meeting)
        if egress is None:
            return None
        resource, key = egress
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


async def _egress(
    session: AsyncSession,
    settings: Settings,
    event: ev.RecordingChanged | ev.SnapshotCreated,
    meeting: Meeting,
) -> tuple[dict[str, Any], str] | None:
    """§2.4 (as of the event's step, like ``/rt``'s ``recording_update``) or §2.5."""
    if isinstance(event, ev.SnapshotCreated):
        snap = await session.get(Snapshot, event.snapshot_id)
        if snap is None:
            return None
        who = await session.get(Participant, snap.participant_id) if snap.participant_id else None
        return shapes.snapshot_object(settings, snap, who, meeting), "snapshot"
    row = await session.get(Recording, event.recording_id)
    if row is None:
        return None
    user = await session.get(Participant, row.participant_id) if row.participant_id else None
    body = shapes.recording_object(settings, row, user, meeting)
    if event.type in ("recording.started", "recording.paused", "recording.resumed"):
        body["duration"] = None
        body["links"]["download"] = None
    elif event.type == "recording.stopped":
        body["links"]["download"] = None
    body["event"] = event.type
    return body, "recording"
