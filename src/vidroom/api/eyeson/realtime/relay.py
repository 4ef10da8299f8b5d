"""Event messages that participants and observers receive alike."""

from __future__ import annotations

from typing import Any

from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.broadcasts import running
from vidroom.api.eyeson.files import file_object
from vidroom.api.eyeson.recordings import recording_body
from vidroom.api.eyeson.snapshots import snapshot_body
from vidroom.db.uow import Database
from vidroom.events import catalogue as ev
from vidroom.files.models import MeetingFile
from vidroom.kit.clock import iso_z
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.options import merged
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.snapshots.models import Snapshot


def message_sent(event: ev.MessageSent) -> dict[str, Any]:
    """``chat`` / ``custom`` (spec §5.5, §5.6)."""
    return {
        "type": event.kind,
        "content": event.content,
        "cid": event.client_id,
        "user_id": event.user_id,
        "created_at": iso_z(event.at),
    }


def options_update(stored: dict[str, Any] | None, event: ev.OptionsChanged) -> dict[str, Any]:
    """The full options (spec §2.2): the meeting's, as the event changed them."""
    return {"type": "options_update", "options": merged({**(stored or {}), **event.options})}


async def broadcasts_update(db: Database, meeting_id: str) -> list[dict[str, Any]]:
    """``broadcasts_update`` with the meeting's running broadcasts (none: an empty list)."""
    async with db.reader() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        if meeting is None:
            return []
        return [{"type": "broadcasts_update", "broadcasts": await running(uow.session, meeting)}]


async def recording_update(
    db: Database, settings: Settings, event: ev.RecordingChanged
) -> list[dict[str, Any]]:
    """``recording_update`` (§2.4) as of the event's step: no download link yet at
    ``recording.stopped`` (the next step, ready, brings it)."""
    async with db.reader() as uow:
        row = await uow.session.get(Recording, event.recording_id)
        if row is None:
            return []
        body = await recording_body(uow.session, settings, row)
    if event.type in ("recording.started", "recording.paused", "recording.resumed"):
        body["duration"] = None
        body["links"]["download"] = None
    elif event.type == "recording.stopped":
        body["links"]["download"] = None
    return [{"type": "recording_update", "recording": body}]


async def snapshot_update(
    db: Database, settings: Settings, event: ev.SnapshotCreated
) -> list[dict[str, Any]]:
    """``snapshot_update`` with only the new snapshot (§2.5)."""
    async with db.reader() as uow:
        row = await uow.session.get(Snapshot, event.snapshot_id)
        if row is None:
            return []
        body = await snapshot_body(uow.session, settings, row)
    return [{"type": "snapshot_update", "snapshots": [body]}]


async def presentation_update(db: Database, event: ev.PresentationChanged) -> dict[str, Any]:
    """``presentation_update``: ``{user, room}`` of the presenter (spec §2.8), or null."""
    if event.participant_id is None:
        return {"type": "presentation_update", "presentation": None}
    async with db.reader() as uow:
        meeting = await uow.session.get(Meeting, event.meeting_id)
        presenter = await uow.session.get(Participant, event.participant_id)
        if meeting is None or presenter is None:
            return {"type": "presentation_update", "presentation": None}
        body = {
            "user": shapes.user_summary(presenter),
            "room": shapes.room_info(meeting),
            "slide": event.slide,
        }
    return {"type": "presentation_update", "presentation": body}


async def files_update(
    db: Database, settings: Settings, access_key: str, event: ev.FileChanged
) -> list[dict[str, Any]]:
    """Legacy ``files_update`` (spec §5.5) with the changed file, its links for this
    participant's access key."""
    async with db.reader() as uow:
        row = await uow.session.get(MeetingFile, event.file_id)
        if row is None or row.meeting_id != event.meeting_id:
            return []
        return [{"type": "files_update", "files": [file_object(settings, access_key, row)]}]


def playback_update(event: ev.PlaybackChanged) -> list[dict[str, Any]]:
    """``playback_update`` with every playback playing now (§2.7; an empty list when none
    plays); a failed playback also brings ``{"type": "error", "code": "playback_failed",
    "play_id", "message"}`` (spec §5 has no error event of its own: vidroom's)."""
    messages: list[dict[str, Any]] = [{"type": "playback_update", "playing": event.playing}]
    if event.failed is not None:
        messages.append(
            {
                "type": "error",
                "code": "playback_failed",
                "play_id": event.failed,
                "message": event.error or "the playback failed",
            }
        )
    return messages
