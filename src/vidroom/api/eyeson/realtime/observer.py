"""A Meeting Observer's connection (``/rt?room_id=`` with the team's API key): the room with
its participants, and what happens in it (spec §5.6)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vidroom import errors
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.broadcasts import running
from vidroom.api.eyeson.egress_state import presentation_of, recording_of
from vidroom.api.eyeson.realtime import protocol
from vidroom.api.eyeson.realtime.connection import Disconnect, Message
from vidroom.api.eyeson.realtime.relay import (
    broadcasts_update,
    message_sent,
    options_update,
    playback_update,
    presentation_update,
    recording_update,
    snapshot_update,
)
from vidroom.events import catalogue as ev
from vidroom.events.bus import meeting_topic
from vidroom.meetings import live
from vidroom.meetings.models import Meeting
from vidroom.state import AppState
from vidroom.teams import service as teams

log = logging.getLogger(__name__)


async def authorise(state: AppState, api_key: str | None, room_id: str) -> ObserverHandler:
    """The handler for an API key and a room id: the key's team must run a meeting in that room;
    ``Disconnect`` otherwise (another team's meetings are invisible)."""
    if not api_key or not room_id:
        raise Disconnect("unauthorized")
    async with state.db.uow() as uow:
        try:
            team, _ = await teams.team_for_api_key(uow.session, api_key)
            meeting = await live.running_meeting(uow.session, team, room_id)
        except errors.VidroomError:
            raise Disconnect("unauthorized") from None
    return ObserverHandler(state, meeting.id)


class ObserverHandler:
    channels = frozenset({protocol.ROOM_CHANNEL})

    def __init__(self, state: AppState, meeting_id: str) -> None:
        self.state = state
        self.meeting_id = meeting_id
        self.label = f"observer of {meeting_id}"
        self.topic = meeting_topic(meeting_id)

    async def _room_update(self) -> Message:
        async with self.state.db.uow() as uow:
            meeting = await uow.session.get(Meeting, self.meeting_id)
            if meeting is None:
                raise Disconnect("unauthorized")
            found = list(await live.participants(uow.session, meeting))
            content = shapes.observer_room(
                meeting,
                found,
                broadcasts=await running(uow.session, meeting),
                recording=await recording_of(uow.session, self.state.settings, meeting),
                presentation=await presentation_of(uow.session, self.state.media, meeting),
                playbacks=self.state.playbacks.playing(meeting.id)
                if self.state.playbacks is not None
                else [],
            )
            return {"type": "room_update", "content": content}

    async def subscribed(self, channel: str) -> list[Message]:
        update = await self._room_update()
        if update["content"]["shutdown"]:
            raise Disconnect("meeting_ended")
        return [update]

    async def action(self, channel: str, name: str, data: dict[str, Any]) -> None:
        log.info("realtime %s: observers have no actions (%r)", self.label, name[:40])

    async def event(self, event: ev.Event, *, subscribed: bool) -> list[Message]:
        if isinstance(event, ev.MeetingEnded):
            # the last room_update says shutdown; then the socket closes
            raise Disconnect("meeting_ended", messages=[await self._room_update()])
        if not subscribed:
            return []
        if isinstance(event, ev.MeetingReady):
            return [await self._room_update()]
        if isinstance(event, ev.ParticipantChanged):
            return await self._participant_update(event)
        if isinstance(event, ev.MessageSent):
            return [message_sent(event)]
        if isinstance(event, ev.OptionsChanged):
            async with self.state.db.uow() as uow:
                meeting = await uow.session.get(Meeting, self.meeting_id)
            return [options_update(meeting.options if meeting else None, event)]
        if isinstance(event, ev.BroadcastChanged):
            return await broadcasts_update(self.state.db, self.meeting_id)
        if isinstance(event, ev.RecordingChanged):
            return await recording_update(self.state.db, self.state.settings, event)
        if isinstance(event, ev.SnapshotCreated):
            return await snapshot_update(self.state.db, self.state.settings, event)
        if isinstance(event, ev.PresentationChanged):
            return [await presentation_update(self.state.db, event)]
        if isinstance(event, ev.PlaybackChanged):
            return playback_update(event)
        if isinstance(event, ev.PodiumChanged):
            return [{"type": "podium_update", "podium": event.podium}]
        return []

    async def _participant_update(self, event: ev.ParticipantChanged) -> list[Message]:
        async with self.state.db.uow() as uow:
            meeting = await uow.session.get(Meeting, self.meeting_id)
            participant = await live.participant_by_id(uow.session, event.participant_id)
        if meeting is None or participant is None:
            return []
        info = shapes.participant_info(participant, meeting)
        info["online"] = event.online  # as of the event: a later change has its own event
        return [{"type": "participant_update", "participant": info}]

    def opened(self) -> None:
        pass

    def background(self) -> list[Callable[[], Awaitable[None]]]:
        return []

    async def closed(self) -> None:
        pass
