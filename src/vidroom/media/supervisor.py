"""The media server as the rest of vidroom sees it: one :class:`RoomMedia` per meeting.

Implements :class:`vidroom.media.contract.MediaControl`. A room is opened lazily by the first
``join`` when ``open_room`` was not called. Joining twice with the same participant is refused
with 409 (``leave`` first to replace a stale connection). ``peer_closed`` is reported only for
closes the media server decided (connection failed/closed by the remote, no media for 15 s),
not for ``leave``/``close_room``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias

from aiortc import RTCIceServer

from vidroom.media.contract import (
    Answer,
    BroadcastTarget,
    LayerImage,
    MediaError,
    MediaEvents,
    MediaStats,
    Member,
    PeerSpec,
    PlaybackSpec,
    RecordingResult,
    RecordingTarget,
    RoomSpec,
    SnapshotImage,
)
from vidroom.media.finalize import finalize
from vidroom.media.room import MAX_PEERS, MEDIA_TIMEOUT_S, RoomMedia


class IceServerLike(Protocol):
    """Anything with an RTCIceServer's fields, e.g. ``vidroom.kit.turn.IceServer``."""

    @property
    def urls(self) -> str | Sequence[str]: ...
    @property
    def username(self) -> str | None: ...
    @property
    def credential(self) -> str | None: ...


IceServerInput: TypeAlias = RTCIceServer | IceServerLike | Mapping[str, object] | str


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"an ICE server's {name} must be a string")


def ice_server(value: IceServerInput) -> RTCIceServer:
    """An RTCIceServer from itself, a plain ``stun:``/``turn:`` URL (no credentials), or a
    mapping or object with ``urls`` (a URL or a sequence of URLs) and optional ``username`` and
    ``credential`` (also read as ``password``, the meeting API's name)."""
    if isinstance(value, RTCIceServer):
        return value
    if isinstance(value, str):
        return RTCIceServer(urls=value)
    if isinstance(value, Mapping):
        urls: object = value.get("urls")
        username: object = value.get("username")
        credential: object = value.get("credential", value.get("password"))
    else:
        urls, username, credential = value.urls, value.username, value.credential
    if isinstance(urls, str):
        url_list = [urls]
    elif isinstance(urls, Sequence) and urls and all(isinstance(u, str) for u in urls):
        url_list = [str(u) for u in urls]
    else:
        raise TypeError("an ICE server needs urls: a URL or a non-empty sequence of URLs")
    return RTCIceServer(
        urls=url_list,
        username=_text(username, "username"),
        credential=_text(credential, "credential"),
    )


class MediaSupervisor:
    def __init__(
        self,
        events: MediaEvents,
        *,
        ice_servers: Sequence[IceServerInput] = (),
        media_timeout: float = MEDIA_TIMEOUT_S,
        max_peers: int = MAX_PEERS,
    ) -> None:
        self.events = events
        self.ice_servers = [ice_server(s) for s in ice_servers]
        self.media_timeout = media_timeout
        self.max_peers = max_peers
        self.rooms: dict[str, RoomMedia] = {}

    def _room(self, meeting_id: str) -> RoomMedia:
        room = self.rooms.get(meeting_id)
        if room is None:
            raise MediaError(404, "no media room for this meeting")
        return room

    async def open_room(self, spec: RoomSpec) -> None:
        existing = self.rooms.get(spec.meeting_id)
        if existing is not None:
            existing.update(spec)  # e.g. opened by a join before the meeting's options
            return
        room = RoomMedia(
            spec,
            self.events,
            ice_servers=self.ice_servers,
            media_timeout=self.media_timeout,
            max_peers=self.max_peers,
        )
        self.rooms[spec.meeting_id] = room
        room.start()

    async def close_room(self, meeting_id: str) -> None:
        room = self.rooms.pop(meeting_id, None)
        if room is not None:
            if room.egress.recorders or room.egress.broadcasts:
                await room.egress.end("closed")  # reported before the room is gone
            await room.close()

    async def close(self) -> None:
        """Close every room (application shutdown; recordings are finished first)."""
        rooms = list(self.rooms.values())
        self.rooms.clear()
        ending = [r for r in rooms if r.egress.recorders or r.egress.broadcasts]
        if ending:
            await asyncio.gather(*(r.egress.end("closed") for r in ending), return_exceptions=True)
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)

    async def join(self, meeting_id: str, peer: PeerSpec, offer_sdp: str) -> Answer:
        if meeting_id not in self.rooms:
            await self.open_room(RoomSpec(meeting_id=meeting_id))
        return await self._room(meeting_id).join(peer, offer_sdp)

    async def renegotiate(self, meeting_id: str, participant_id: str, offer_sdp: str) -> str:
        return await self._room(meeting_id).renegotiate(participant_id, offer_sdp)

    async def leave(self, meeting_id: str, participant_id: str) -> None:
        room = self.rooms.get(meeting_id)
        if room is not None:
            await room.leave(participant_id)

    async def set_video_muted(self, meeting_id: str, participant_id: str, muted: bool) -> None:
        room = self.rooms.get(meeting_id)
        if room is not None:
            await room.set_video_muted(participant_id, muted)

    async def set_presenter(self, meeting_id: str, participant_id: str | None) -> None:
        room = self.rooms.get(meeting_id)
        if room is not None:
            await room.set_presenter(participant_id)

    async def set_layer(self, meeting_id: str, z: int, image: LayerImage | None) -> None:
        await self._room(meeting_id).set_layer(z, image)

    async def start_playback(self, meeting_id: str, playback: PlaybackSpec) -> None:
        await self._room(meeting_id).start_playback(playback)

    async def stop_playback(self, meeting_id: str, play_id: str) -> None:
        await self._room(meeting_id).stop_playback(play_id)

    async def start_recording(self, meeting_id: str, target: RecordingTarget) -> None:
        self._room(meeting_id).egress.start_recording(target)

    async def pause_recording(self, meeting_id: str, recording_id: str, paused: bool) -> None:
        self._room(meeting_id).egress.pause_recording(recording_id, paused)

    async def stop_recording(self, meeting_id: str, recording_id: str) -> RecordingResult:
        return await self._room(meeting_id).egress.stop_recording(recording_id)

    async def finalize_recording(self, recording_id: str, path: str) -> RecordingResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, finalize, recording_id, path)

    async def start_broadcast(self, meeting_id: str, target: BroadcastTarget) -> None:
        self._room(meeting_id).egress.start_broadcast(target)

    async def stop_broadcast(self, meeting_id: str, broadcast_id: str) -> None:
        room = self.rooms.get(meeting_id)
        if room is not None:
            await room.egress.stop_broadcast(broadcast_id)

    async def snapshot(self, meeting_id: str) -> SnapshotImage:
        room = self._room(meeting_id)
        return await room.egress.snapshot(room.executor)

    def members(self, meeting_id: str) -> list[Member]:
        room = self.rooms.get(meeting_id)
        return room.members() if room is not None else []

    async def count_packets(self) -> None:
        """Refresh every room's packet counts (read by :meth:`stats`)."""
        for room in list(self.rooms.values()):
            await room.count_packets()

    def stats(self) -> MediaStats:
        return MediaStats(rooms=[room.stats() for room in self.rooms.values()])
