"""Every domain event, as a frozen model with a literal ``type``: the one source that feeds the
realtime websocket, the webhooks and the meeting history.

Payloads carry what the consumers need to render their own shapes (the meeting API's room,
participant and message objects); the dialects decide the wire format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from vidroom.kit.clock import utc_now


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str
    meeting_id: str
    at: datetime = Field(default_factory=utc_now)


class MeetingStarted(_Event):
    type: Literal["meeting.started"] = "meeting.started"


class MeetingReady(_Event):
    type: Literal["meeting.ready"] = "meeting.ready"


class MeetingEnded(_Event):
    type: Literal["meeting.ended"] = "meeting.ended"
    reason: Literal["empty", "api"] = "empty"


class ParticipantChanged(_Event):
    """A participant came online, went offline, joined or was kicked."""

    type: Literal["participant.changed"] = "participant.changed"
    participant_id: str
    online: bool
    kicked: bool = False


class MessageSent(_Event):
    """``POST /rooms/<ak>/messages``: shown in chat (``chat``) or for apps (``custom``)."""

    type: Literal["message.sent"] = "message.sent"
    kind: Literal["chat", "custom"]
    content: str
    client_id: str
    user_id: str


class OptionsChanged(_Event):
    type: Literal["options.changed"] = "options.changed"
    options: dict[str, Any]


class MeetingLocked(_Event):
    type: Literal["meeting.locked"] = "meeting.locked"


class MuteAll(_Event):
    """The ``stfu`` action: everyone but the sender mutes their microphone."""

    type: Literal["meeting.mute_all"] = "meeting.mute_all"
    participant_id: str


class RecordingChanged(_Event):
    """A step of a recording's life (Daily's names; the meeting API's ``recording_update``):
    started, paused, resumed, stopped (duration known), ready-to-download (the file is
    finished), error (it could not be written; what was written is kept)."""

    type: Literal[
        "recording.started",
        "recording.paused",
        "recording.resumed",
        "recording.stopped",
        "recording.ready-to-download",
        "recording.error",
    ]
    recording_id: str


class BroadcastChanged(_Event):
    """A live broadcast started, connected, is reconnecting, had its player URL changed,
    ended, or failed (Daily's ``streaming.*``; the meeting API's ``broadcasts_update``)."""

    type: Literal[
        "streaming.started",
        "streaming.connected",
        "streaming.reconnecting",
        "streaming.updated",
        "streaming.ended",
        "streaming.error",
    ]
    broadcast_id: str
    reason: str | None = None


class SnapshotCreated(_Event):
    """``POST /rooms/<ak>/snapshot`` wrote a PNG of the composite (``snapshot_update``)."""

    type: Literal["snapshot.created"] = "snapshot.created"
    snapshot_id: str


class PodiumChanged(_Event):
    """The composite's tiles changed (a join, a leave, a layout, a presenter, voice
    activation): the meeting API's observer ``podium_update``."""

    type: Literal["podium.changed"] = "podium.changed"
    podium: list[dict[str, Any]]


class PresentationChanged(_Event):
    """A participant started presenting (``participant_id``) or the presentation ended
    (None): the meeting API's ``presentation_update``."""

    type: Literal["presentation.changed"] = "presentation.changed"
    participant_id: str | None
    slide: str | None = None  # the slide's URL when a slide is shown (spec 2.8, legacy)


class FileChanged(_Event):
    """A meeting file's conversion made progress, finished or failed: ``files_update``."""

    type: Literal["file.changed"] = "file.changed"
    file_id: str


class PlaybackChanged(_Event):
    """The meeting's playbacks changed: one started, ended, was stopped or failed. ``playing``:
    every playback playing now (spec §2.7 shapes); ``failed``: the play id that could not be
    played (``error`` says why), the meeting API's ``error`` event."""

    type: Literal["playback.changed"] = "playback.changed"
    playing: list[dict[str, Any]]
    failed: str | None = None
    error: str | None = None


Event = Annotated[
    MeetingStarted
    | MeetingReady
    | MeetingEnded
    | ParticipantChanged
    | MessageSent
    | OptionsChanged
    | MeetingLocked
    | MuteAll
    | RecordingChanged
    | BroadcastChanged
    | SnapshotCreated
    | PodiumChanged
    | PresentationChanged
    | FileChanged
    | PlaybackChanged,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# events that are not written to the outbox: nothing durable depends on them
EPHEMERAL_TYPES = frozenset(
    {
        "message.sent",
        "meeting.mute_all",
        "podium.changed",
        "presentation.changed",
        "file.changed",
        "playback.changed",
    }
)


def load(data: dict[str, Any]) -> Event:
    return EVENT_ADAPTER.validate_python(data)
