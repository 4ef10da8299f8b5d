"""What the media server reports, applied to the control plane: presence in the database, and
``memberlist`` / ``source_update`` / ``voice_activity`` / ``call_terminated`` on the meeting's
signalling sockets."""

from __future__ import annotations

import logging

from vidroom.api.eyeson.sepp import protocol
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.broadcasts import service as broadcasts
from vidroom.events import catalogue as ev
from vidroom.media.contract import Member, RecordingResult, Tile
from vidroom.meetings import live
from vidroom.recordings import repair
from vidroom.recordings import service as recordings
from vidroom.storage.media_store import MediaStore

log = logging.getLogger(__name__)


class SeppMediaEvents:
    """Implements :class:`vidroom.media.contract.MediaEvents`. Created before the media server
    (which needs it) and bound to the hub afterwards; reports before binding only touch the
    database."""

    def __init__(self, hub: Hub | None = None, store: MediaStore | None = None) -> None:
        self.hub = hub
        self.store = store  # where recordings are (to repair those of a lost room)
        self._presenters: dict[str, str] = {}  # meeting id → who presents, as last reported

    def bind(self, hub: Hub) -> None:
        self.hub = hub

    async def peer_connected(self, meeting_id: str, participant_id: str) -> None:
        if self.hub is None:
            return
        try:
            async with self.hub.db.uow() as uow:
                participant = await live.participant_by_id(uow.session, participant_id)
                if participant is not None and participant.meeting_id == meeting_id:
                    await live.seen(uow, participant, online=True)
        except Exception:
            log.exception("sepp: could not record %s as connected", participant_id)

    async def peer_closed(self, meeting_id: str, participant_id: str, reason: str) -> None:
        """The peer's media is gone (ICE failure, timeout, closed): end the call."""
        if self.hub is None:
            return
        log.info("sepp: media peer %s closed (%s)", participant_id, reason[:80])
        call = self.hub.call_of(meeting_id, participant_id)
        if call is not None:
            call.line.terminate(protocol.GONE)
            await self.hub.end_call(call)
        else:
            await self.hub.offline(participant_id)

    async def layout_changed(
        self, meeting_id: str, members: list[Member], tiles: list[Tile]
    ) -> None:
        if self.hub is not None:
            self.hub.layout(meeting_id, members, tiles)
            try:
                await self._podium(meeting_id, tiles)
            except Exception:
                log.exception("sepp: could not announce the podium of %s", meeting_id)
            presenter = next((m.participant_id for m in members if m.presenting), None)
            before = self._presenters.pop(meeting_id, None)
            if presenter is not None:
                self._presenters[meeting_id] = presenter
            elif before is not None:
                await self._presentation_ended(meeting_id)

    async def _presentation_ended(self, meeting_id: str) -> None:
        """However it ended (``DELETE``, the browser's own "stop sharing", the presenter
        leaving), ``presentation_update`` with null tells everyone."""
        assert self.hub is not None
        try:
            async with self.hub.db.uow() as uow:
                meeting = await live.meeting_by_id(uow.session, meeting_id)
                if meeting is not None and meeting.ended_at is None:
                    await uow.emit(
                        ev.PresentationChanged(
                            team_id=meeting.team_id, meeting_id=meeting_id, participant_id=None
                        )
                    )
        except Exception:
            log.exception("sepp: could not announce the end of %s's presentation", meeting_id)

    async def _podium(self, meeting_id: str, tiles: list[Tile]) -> None:
        """``podium_update`` for the observers: the tiles by user id (a playback's tile by its
        ``play_id``), in composite pixels."""
        assert self.hub is not None
        async with self.hub.db.reader() as uow:
            meeting = await live.meeting_by_id(uow.session, meeting_id)
            if meeting is None or meeting.ended_at is not None:
                return
            users = {p.client_id: p.user_id for p in await live.participants(uow.session, meeting)}
            podium = [
                {
                    "user_id": users.get(tile.client_id),
                    # a tile that is nobody's is a playback's, keyed by its play_id (tile_of)
                    "play_id": None if tile.client_id in users else tile.client_id,
                    "width": tile.width,
                    "height": tile.height,
                    "left": tile.x,
                    "top": tile.y,
                    "z-index": 0,
                }
                for tile in tiles
            ]
            await uow.emit(
                ev.PodiumChanged(team_id=meeting.team_id, meeting_id=meeting_id, podium=podium)
            )

    async def playback_ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        """A playback played out or could not be decoded: over, announced."""
        if self.hub is not None:
            await self.hub.playbacks.ended(meeting_id, play_id, error)

    async def room_lost(self, meeting_id: str, participant_ids: list[str]) -> None:
        """The media worker died: the calls rejoin, the meeting goes on."""
        if self.hub is not None:
            self.hub.media_lost(meeting_id)
            if self._presenters.pop(meeting_id, None) is not None:
                await self._presentation_ended(meeting_id)
            await self.hub.playbacks.gone(meeting_id)
            try:
                async with self.hub.db.uow() as uow:
                    await broadcasts.end_all(uow, meeting_id, failed=True, reason="media_lost")
            except Exception:
                log.exception("sepp: could not end the broadcasts of %s", meeting_id)
            if self.store is not None:
                try:
                    await repair.repair(self.hub.db, self.hub.media, self.store, meeting_id)
                except Exception:
                    log.exception("sepp: could not repair the recordings of %s", meeting_id)

    async def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        if self.hub is not None:
            self.hub.voice_activity(meeting_id, client_id, on)

    async def broadcast_state(
        self, meeting_id: str, broadcast_id: str, state: str, reason: str | None
    ) -> None:
        """A broadcast connected, is reconnecting, failed or ended: recorded and announced."""
        if self.hub is None:
            return
        try:
            async with self.hub.db.uow() as uow:
                await broadcasts.on_state(uow, meeting_id, broadcast_id, state, reason)
        except Exception:
            log.exception("sepp: could not record broadcast %s as %s", broadcast_id, state[:20])

    async def recording_ended(self, meeting_id: str, result: RecordingResult, reason: str) -> None:
        """The room ended a recording (everyone left, the room closed, writing failed)."""
        if self.hub is None:
            return
        try:
            async with self.hub.db.uow() as uow:
                error = (
                    f"the recording could not be written ({reason})" if reason == "error" else None
                )
                await recordings.finish(uow, result.recording_id, result, error=error)
        except Exception:
            log.exception("sepp: could not record the end of recording %s", result.recording_id)
