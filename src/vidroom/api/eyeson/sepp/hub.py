"""Who is in which call in this process, and what each socket has been told about it.

Membership and the podium are synchronised, not streamed: on every change the hub compares what
a socket was last told (the client ids of its ``memberlist``, its last ``source_update``) with
the truth and sends the difference. Sending never blocks (bounded queues), so a change is
applied to every socket of the meeting in one step, without interleaving.

Voice activity and the recording state are streamed (``voice_activity``, ``recording``); a call
that is accepted or resumed is told the current state of both (:meth:`Hub.greet`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from vidroom.api.eyeson.sepp import podium, protocol
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.db.uow import Database
from vidroom.media.contract import MediaControl, Member, RoomSpec, Tile
from vidroom.meetings import live
from vidroom.meetings.playbacks import Playbacks
from vidroom.meetings.presence import CALL, presence

log = logging.getLogger(__name__)


class Line(Protocol):
    """A signalling socket as the hub uses it."""

    def send(self, kind: str, data: dict[str, Any]) -> bool: ...

    def terminate(self, code: int) -> None:
        """Send ``call_terminated`` with ``code`` and close."""

    def release_call(self) -> None:
        """The call moved to another socket (``call_resume``): forget it and close."""


class _Dropped:
    """The line of a call whose socket dropped: nothing reaches it until it is resumed."""

    def send(self, kind: str, data: dict[str, Any]) -> bool:
        return False

    def terminate(self, code: int) -> None:
        pass

    def release_call(self) -> None:
        pass


@dataclass(eq=False)
class Call:
    meeting_id: str
    participant_id: str
    client_id: str
    call_id: str
    platform: str
    line: Line
    told: set[str] = field(default_factory=set)  # client ids in this socket's memberlist
    last_source: dict[str, Any] | None = None


@dataclass(frozen=True)
class Recording:
    """A meeting's recording state as SEPP's ``recording`` message tells it (§3.2)."""

    active: bool = False  # being recorded now
    enabled: bool = False  # recording is possible in this meeting


# vidroom does not record yet: every meeting starts (and stays) like this until recording
# exists and calls :meth:`Hub.set_recording`
NOT_RECORDING = Recording(active=False, enabled=False)


@dataclass
class _Room:
    spec: RoomSpec
    calls: dict[str, Call] = field(default_factory=dict)  # participant id → call
    members: list[Member] | None = None  # the media server's last layout
    tiles: list[Tile] | None = None
    speaking: set[str] = field(default_factory=set)  # client ids
    recording: Recording = NOT_RECORDING


class Hub:
    def __init__(self, db: Database, media: MediaControl, config: SeppConfig) -> None:
        self.db = db
        self.media = media
        self.config = config
        self._rooms: dict[str, _Room] = {}
        self._reserved: dict[str, set[str]] = {}  # meeting id → participants joining now
        self._locks: dict[str, asyncio.Lock] = {}
        self._grace: dict[tuple[str, str], asyncio.Task[None]] = {}  # dropped calls' timers
        # participants whose media was lost, until they rejoin or their time is up
        self._rejoin: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.playbacks = Playbacks(db, media)  # what plays in the rooms (gone with them)

    # --- joining -----------------------------------------------------------------------------

    def reserve(self, meeting_id: str, participant_id: str) -> bool:
        """Claim the participant's one call; False when they are in one or joining."""
        reserved = self._reserved.setdefault(meeting_id, set())
        room = self._rooms.get(meeting_id)
        if participant_id in reserved or (room is not None and participant_id in room.calls):
            return False
        reserved.add(participant_id)
        return True

    def release(self, meeting_id: str, participant_id: str) -> None:
        reserved = self._reserved.get(meeting_id)
        if reserved is not None:
            reserved.discard(participant_id)
            if not reserved:
                del self._reserved[meeting_id]

    def _lock(self, meeting_id: str) -> asyncio.Lock:
        return self._locks.setdefault(meeting_id, asyncio.Lock())

    async def open_room(self, spec: RoomSpec) -> None:
        async with self._lock(spec.meeting_id):
            await self.media.open_room(spec)
            if spec.meeting_id not in self._rooms:
                self._rooms[spec.meeting_id] = _Room(spec)

    def admit(self, call: Call) -> None:
        """The call was accepted: everybody learns about it."""
        room = self._rooms.get(call.meeting_id)
        if room is None:  # closed meanwhile: the call ends at once
            call.line.terminate(410)
            return
        room.calls[call.participant_id] = call
        presence.hold(call.participant_id, CALL)  # a closing /rt leaves them online
        waiting = self._rejoin.pop((call.meeting_id, call.participant_id), None)
        if waiting is not None:  # back after a media loss: the earlier hold is theirs again
            waiting.cancel()
            presence.release(call.participant_id, CALL)
        self.release(call.meeting_id, call.participant_id)
        self.sync(call.meeting_id)
        self.greet(call)

    def greet(self, call: Call) -> None:
        """Tell a call that was just accepted or resumed the recording state and who speaks."""
        room = self._rooms.get(call.meeting_id)
        if room is None:
            return
        call.line.send("recording", _recording(call, room.recording))
        for cid in sorted(room.speaking):
            call.line.send("voice_activity", {"cid": cid, "on": True})

    # --- leaving -----------------------------------------------------------------------------

    def call_of(self, meeting_id: str, participant_id: str) -> Call | None:
        room = self._rooms.get(meeting_id)
        return room.calls.get(participant_id) if room is not None else None

    async def end_call(self, call: Call) -> None:
        """The call is over (idempotent): media peer closed, presence off, the rest told."""
        room = self._rooms.get(call.meeting_id)
        if room is None or room.calls.get(call.participant_id) is not call:
            return
        del room.calls[call.participant_id]
        presence.release(call.participant_id, CALL)
        timer = self._grace.pop((call.meeting_id, call.participant_id), None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        self.sync(call.meeting_id)  # before anything that waits: nobody misses the news
        try:
            async with asyncio.timeout(self.config.media_seconds):
                await self.media.leave(call.meeting_id, call.participant_id)
        except Exception:
            log.exception("sepp: media leave failed for %s", call.participant_id)
        await self.offline(call.participant_id)
        await self.close_if_empty(call.meeting_id)

    # --- dropped sockets and resumes -------------------------------------------------------

    def drop(self, call: Call) -> None:
        """The call's socket closed without a goodbye: keep the call for ``resume_seconds``."""
        if self.call_of(call.meeting_id, call.participant_id) is not call:
            return
        call.line = _Dropped()
        key = (call.meeting_id, call.participant_id)
        self._grace[key] = asyncio.create_task(self._expire(call), name=f"sepp-resume-{key[1]}")

    async def _expire(self, call: Call) -> None:
        await asyncio.sleep(self.config.resume_seconds)
        await self.end_call(call)

    def take_over(
        self, meeting_id: str, participant_id: str, call_id: str, line: Line
    ) -> Call | None:
        """Move the participant's call ``call_id`` to ``line``; None when there is no such call."""
        call = self.call_of(meeting_id, participant_id)
        if call is None or call.call_id != call_id:
            return None
        timer = self._grace.pop((meeting_id, participant_id), None)
        if timer is not None:
            timer.cancel()
        previous, call.line = call.line, line
        previous.release_call()
        call.last_source = None  # the new socket gets the podium again
        return call

    # --- a lost media room --------------------------------------------------------------

    def media_lost(self, meeting_id: str) -> None:
        """The meeting's media room is gone (its worker died): every call is told to rejoin
        (``call_terminated`` :data:`protocol.REJOIN`). The meeting goes on: the participants stay
        present for ``resume_seconds`` plus the media timeout, the time to rejoin, and the next
        call opens the media room again on a live worker."""
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        room.members = room.tiles = None
        room.speaking.clear()
        calls = list(room.calls.values())
        room.calls.clear()
        for call in calls:
            key = (meeting_id, call.participant_id)
            timer = self._grace.pop(key, None)
            if timer is not None:
                timer.cancel()
            log.warning("sepp: media of %s lost: %s rejoins", meeting_id, call.participant_id)
            call.line.terminate(protocol.REJOIN)
            self._rejoin[key] = asyncio.create_task(
                self._rejoin_or_leave(call), name=f"sepp-rejoin-{call.participant_id}"
            )

    async def _rejoin_or_leave(self, call: Call) -> None:
        await asyncio.sleep(self.config.rejoin_seconds)
        key = (call.meeting_id, call.participant_id)
        if self._rejoin.get(key) is not asyncio.current_task():
            return
        del self._rejoin[key]
        presence.release(call.participant_id, CALL)
        await self.offline(call.participant_id)
        await self.close_if_empty(call.meeting_id)

    async def close(self) -> None:
        """Application shutdown: end the dropped calls now."""
        timers = list(self._grace.values()) + list(self._rejoin.values())
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        await self.playbacks.close()

    async def offline(self, participant_id: str) -> None:
        try:
            async with self.db.uow() as uow:
                participant = await live.participant_by_id(uow.session, participant_id)
                if participant is not None:
                    await live.set_online(uow, participant, False)
        except Exception:
            log.exception("sepp: could not mark %s offline", participant_id)

    async def close_if_empty(self, meeting_id: str) -> None:
        async with self._lock(meeting_id):
            room = self._rooms.get(meeting_id)
            if room is None or room.calls or self._reserved.get(meeting_id):
                return
            del self._rooms[meeting_id]
            self._locks.pop(meeting_id, None)
            try:
                async with asyncio.timeout(self.config.media_seconds):
                    await self.media.close_room(meeting_id)
            except Exception:
                log.exception("sepp: closing the media room of %s failed", meeting_id)
        await self.playbacks.gone(meeting_id)

    def terminate_all(self, meeting_id: str, code: int) -> None:
        room = self._rooms.get(meeting_id)
        for call in list(room.calls.values()) if room is not None else []:
            call.line.terminate(code)

    # --- the podium --------------------------------------------------------------------------

    def layout(self, meeting_id: str, members: list[Member], tiles: list[Tile]) -> None:
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        room.members, room.tiles = list(members), list(tiles)
        self.sync(meeting_id)

    def sync(self, meeting_id: str) -> None:
        """Tell every socket of the meeting what changed in the membership and the podium."""
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        present = {c.client_id: c.platform for c in room.calls.values()}
        for call in room.calls.values():
            added = [(cid, p) for cid, p in present.items() if cid not in call.told]
            gone = sorted(call.told - present.keys())
            if added or gone:
                data = podium.memberlist(call.call_id, add=added, delete=gone, count=len(present))
                if call.line.send("memberlist", data):
                    call.told = set(present)
            if room.tiles is None or room.members is None:
                continue  # no layout from the media server yet
            source = podium.source_update(
                call.call_id, room.members, room.tiles, show_names=room.spec.show_names
            )
            if source != call.last_source and call.line.send("source_update", source):
                call.last_source = source

    def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        """Someone started or stopped speaking: every call of the meeting hears of it."""
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        if on:
            room.speaking.add(client_id)
        else:
            room.speaking.discard(client_id)
        for call in room.calls.values():
            call.line.send("voice_activity", {"cid": client_id, "on": on})

    def set_recording(self, meeting_id: str, recording: Recording) -> None:
        """The meeting's recording state changed: every call is told (``recording``)."""
        room = self._rooms.get(meeting_id)
        if room is None or room.recording == recording:
            return
        room.recording = recording
        for call in room.calls.values():
            call.line.send("recording", _recording(call, recording))

    def refresh(self, meeting_id: str) -> None:
        """Re-read the members from the media server (e.g. after a mute) and sync."""
        room = self._rooms.get(meeting_id)
        if room is None:
            return
        try:
            room.members = self.media.members(meeting_id)
        except Exception:
            log.exception("sepp: could not read the members of %s", meeting_id)
        self.sync(meeting_id)


def _recording(call: Call, recording: Recording) -> dict[str, Any]:
    return {"call_id": call.call_id, "active": recording.active, "enabled": recording.enabled}
