"""A participant's connection (``/rt?access_key=``): the room as they see it, the meeting's
events, their ``user_joins`` keep-alive and ``stfu`` action, and their presence.

Presence is the union of the participant's connections (:mod:`vidroom.meetings.presence`):
an open ``/rt`` socket holds them online, and so does a live media call; closing the last
socket takes them offline only when no call holds them either (the call's end does then).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from vidroom import errors
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.egress_state import room_fields
from vidroom.api.eyeson.realtime import protocol
from vidroom.api.eyeson.realtime.config import Realtime
from vidroom.api.eyeson.realtime.connection import Disconnect, Message
from vidroom.api.eyeson.realtime.relay import (
    broadcasts_update,
    files_update,
    message_sent,
    options_update,
    playback_update,
    presentation_update,
    recording_update,
    snapshot_update,
)
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.events.bus import meeting_topic
from vidroom.meetings import actions, live
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.presence import REALTIME, presence
from vidroom.state import AppState
from vidroom.teams import repository as teams_repository

log = logging.getLogger(__name__)

STFU_COOLDOWN = 1.0  # seconds between two "mute everyone" of one connection

InCall = Callable[[str, str], bool]  # (meeting id, participant id) → in a live media call


def calls_of(app_state: Any) -> InCall:
    """Whether a participant has a live media call in this application: the signalling hub's
    word (``app.state.sepp``, looked up when asked: it is installed at startup, if at all). A
    call whose socket dropped counts until its resume period ends (then the hub ends it)."""

    def in_call(meeting_id: str, participant_id: str) -> bool:
        hub = getattr(app_state, "sepp", None)
        return isinstance(hub, Hub) and hub.call_of(meeting_id, participant_id) is not None

    return in_call


def _no_calls(meeting_id: str, participant_id: str) -> bool:
    return False


async def authorise(
    state: AppState, realtime: Realtime, access_key: str, in_call: InCall = _no_calls
) -> ParticipantHandler:
    """The handler for a participant's access key; ``Disconnect`` when it does not admit."""
    async with state.db.uow() as uow:
        try:
            meeting, participant = await live.access(uow.session, access_key)
        except errors.VidroomError:
            raise Disconnect("unauthorized") from None
    return ParticipantHandler(state, realtime, access_key, meeting.id, participant.id, in_call)


class ParticipantHandler:
    channels = frozenset({protocol.ROOM_CHANNEL, protocol.USER_CHANNEL})

    def __init__(
        self,
        state: AppState,
        realtime: Realtime,
        access_key: str,
        meeting_id: str,
        participant_id: str,
        in_call: InCall = _no_calls,
    ) -> None:
        self.state = state
        self.realtime = realtime
        self.access_key = access_key
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.in_call = in_call
        self.label = f"participant {participant_id}"
        self.topic = meeting_topic(meeting_id)
        self.ready_sent = False
        self.holding = False  # whether this connection holds the participant's presence
        self._last_stfu = 0.0

    async def _load(self, uow: UnitOfWork) -> tuple[Meeting, Participant]:
        try:
            return await live.access(uow.session, self.access_key)
        except errors.VidroomError as exc:
            if exc.kind is errors.ErrorKind.gone:
                raise Disconnect("meeting_ended") from None
            raise Disconnect("unauthorized") from None

    async def _room(self, uow: UnitOfWork, meeting: Meeting, participant: Participant) -> Message:
        team = await teams_repository.team_by_id(uow.session, meeting.team_id)
        return shapes.room_response(
            self.state.settings,
            meeting,
            participant,
            self.access_key,
            team.name if team is not None else "",
            **await room_fields(
                uow.session, self.state.settings, meeting, self.state.media, self.state.playbacks
            ),
        )

    # --- the protocol ----------------------------------------------------------------------

    async def subscribed(self, channel: str) -> list[Message]:
        if channel != protocol.ROOM_CHANNEL:
            return []
        async with self.state.db.uow() as uow:
            meeting, participant = await self._load(uow)
            content = await self._room(uow, meeting, participant)
            self._hold()
            await live.seen(uow, participant, online=True)
        self.ready_sent = self.ready_sent or bool(content["ready"])
        return [{"type": "room_setup", "content": content}]

    async def action(self, channel: str, name: str, data: dict[str, Any]) -> None:
        if name == "user_joins":
            async with self.state.db.uow() as uow:
                _, participant = await self._load(uow)
                self._hold()
                await live.seen(uow, participant, online=True)
        elif name == "stfu":
            now = time.monotonic()
            if now - self._last_stfu < STFU_COOLDOWN:
                return
            self._last_stfu = now
            async with self.state.db.uow() as uow:
                meeting, participant = await self._load(uow)
                await actions.mute_all(uow, meeting, participant)
        else:
            log.info("realtime %s: ignored the unknown action %r", self.label, name[:40])

    async def event(self, event: ev.Event, *, subscribed: bool) -> list[Message]:
        if isinstance(event, ev.MeetingEnded):
            raise Disconnect("meeting_ended")
        if (
            isinstance(event, ev.ParticipantChanged)
            and event.kicked
            and event.participant_id == self.participant_id
        ):
            raise Disconnect("kicked")
        if not subscribed:
            return []
        if isinstance(event, ev.MeetingReady):
            return await self._ready()
        if isinstance(event, ev.MessageSent):
            return [message_sent(event)]
        if isinstance(event, ev.OptionsChanged):
            async with self.state.db.uow() as uow:
                meeting, _ = await self._load(uow)
            return [options_update(meeting.options, event)]
        if isinstance(event, ev.MeetingLocked):
            return [{"type": "lock", "locked": True}]
        if isinstance(event, ev.MuteAll):
            return await self._stfu(event)
        if isinstance(event, ev.BroadcastChanged):
            return await broadcasts_update(self.state.db, event.meeting_id)
        if isinstance(event, ev.RecordingChanged):
            return await recording_update(self.state.db, self.state.settings, event)
        if isinstance(event, ev.SnapshotCreated):
            return await snapshot_update(self.state.db, self.state.settings, event)
        if isinstance(event, ev.PresentationChanged):
            return [await presentation_update(self.state.db, event)]
        if isinstance(event, ev.FileChanged):
            return await files_update(self.state.db, self.state.settings, self.access_key, event)
        if isinstance(event, ev.PlaybackChanged):
            return playback_update(event)
        return []

    async def _ready(self) -> list[Message]:
        if self.ready_sent:
            return []
        async with self.state.db.uow() as uow:
            meeting, participant = await self._load(uow)
            content = await self._room(uow, meeting, participant)
        if not content["ready"]:
            return []
        self.ready_sent = True
        return [{"type": "room_ready", "content": content}]

    async def _stfu(self, event: ev.MuteAll) -> list[Message]:
        async with self.state.db.uow() as uow:
            sender = await live.participant_by_id(uow.session, event.participant_id)
        if sender is None:
            return []
        return [{"type": "stfu", "user": shapes.user_summary(sender)}]

    # --- presence --------------------------------------------------------------------------

    def _hold(self) -> None:
        """The client joined (RoomChannel, or the ``user_joins`` keep-alive): from now on this
        connection holds the participant in the meeting (held before they are marked online,
        so that a call ending meanwhile leaves them online)."""
        if not self.holding:
            presence.hold(self.participant_id, REALTIME)
            self.holding = True

    def opened(self) -> None:
        """Admitted; presence starts when the client joins (see ``_hold``)."""

    def background(self) -> list[Callable[[], Awaitable[None]]]:
        return [self._keep_present]

    async def _keep_present(self) -> None:
        """An open connection is presence: refresh it so the supervisor does not lapse it."""
        while True:
            await asyncio.sleep(self.realtime.config.presence_seconds)
            try:
                async with self.state.db.uow() as uow:
                    _, participant = await self._load(uow)
                    await live.seen(uow, participant)
            except Disconnect:
                raise
            except Exception:
                log.exception("realtime %s: could not refresh the presence", self.label)

    async def closed(self) -> None:
        """The connection closed. When it was the last to hold the participant they left,
        unless they are still in a media call (whose end takes them offline then)."""
        if not self.holding:
            return  # never joined: its end changes nothing
        self.holding = False
        if not presence.release(self.participant_id, REALTIME):
            return  # another socket, or a call the hub registered, holds them
        if self.in_call(self.meeting_id, self.participant_id):
            return
        async with self.state.db.uow() as uow:
            participant = await live.participant_by_id(uow.session, self.participant_id)
            if participant is not None:
                await live.seen(uow, participant, online=False)
