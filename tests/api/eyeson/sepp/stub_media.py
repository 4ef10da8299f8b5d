"""A media server for the signalling tests that answers with real aiortc peers but mixes
nothing: every peer receives one solid colour and a tone. It reports members and a simple
side-by-side layout like the real one, and refuses what it cannot answer like the real one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidAccessError, OperationError

from vidroom.media.contract import (
    Answer,
    MediaError,
    MediaEvents,
    MediaStats,
    Member,
    PeerSpec,
    RoomSpec,
    Tile,
)
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

STUB_COLOUR = (255, 0, 255)


@dataclass
class _Room:
    spec: RoomSpec
    peers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)


class StubMedia:
    def __init__(self, events: MediaEvents) -> None:
        self.events = events
        self.rooms: dict[str, _Room] = {}
        self.closed_rooms: list[str] = []
        self.fail_next_join: MediaError | None = None

    async def open_room(self, spec: RoomSpec) -> None:
        self.rooms.setdefault(spec.meeting_id, _Room(spec))

    async def close_room(self, meeting_id: str) -> None:
        room = self.rooms.pop(meeting_id, None)
        if room is not None:
            self.closed_rooms.append(meeting_id)
            for pc in room.peers.values():
                await pc.close()

    async def close(self) -> None:
        for meeting_id in list(self.rooms):
            await self.close_room(meeting_id)

    async def join(self, meeting_id: str, peer: PeerSpec, offer_sdp: str) -> Answer:
        room = self.rooms.get(meeting_id)
        if room is None:
            raise MediaError(404, "no such room")
        if peer.participant_id in room.peers:
            raise MediaError(409, "already in a call")
        if self.fail_next_join is not None:
            failure, self.fail_next_join = self.fail_next_join, None
            raise failure
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        except OperationError as exc:
            await pc.close()
            raise MediaError(406, f"no usable codec: {exc}") from None
        except (ValueError, InvalidAccessError, KeyError, IndexError) as exc:
            await pc.close()
            raise MediaError(400, f"malformed SDP: {exc}") from None
        pc.createDataChannel("data", negotiated=True, id=0)
        pc.addTrack(ColorVideoTrack(STUB_COLOUR, size=(320, 240)))
        pc.addTrack(ToneAudioTrack(300))
        await pc.setLocalDescription(await pc.createAnswer())
        room.peers[peer.participant_id] = pc
        room.members.append(Member(peer.participant_id, peer.client_id, peer.display_name))
        await self._layout(room)
        return Answer(call_id=str(uuid.uuid4()), sdp=pc.localDescription.sdp)

    async def _layout(self, room: _Room) -> None:
        tiles = [
            Tile(m.client_id, x=640 * i, y=0, width=640, height=480)
            for i, m in enumerate(room.members)
        ]
        await self.events.layout_changed(room.spec.meeting_id, list(room.members), tiles)

    async def renegotiate(self, meeting_id: str, participant_id: str, offer_sdp: str) -> str:
        room = self.rooms.get(meeting_id)
        pc = room.peers.get(participant_id) if room is not None else None
        if pc is None:
            raise MediaError(404, "no such peer")
        await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        sdp: str = pc.localDescription.sdp
        return sdp

    async def leave(self, meeting_id: str, participant_id: str) -> None:
        room = self.rooms.get(meeting_id)
        if room is None or participant_id not in room.peers:
            return
        pc = room.peers.pop(participant_id)
        room.members = [m for m in room.members if m.participant_id != participant_id]
        await pc.close()
        await self.events.peer_closed(meeting_id, participant_id, "left")
        await self._layout(room)

    async def set_video_muted(self, meeting_id: str, participant_id: str, muted: bool) -> None:
        room = self.rooms[meeting_id]
        room.members = [
            replace(m, video_muted=muted) if m.participant_id == participant_id else m
            for m in room.members
        ]
        await self._layout(room)

    async def set_presenter(self, meeting_id: str, participant_id: str | None) -> None:
        room = self.rooms[meeting_id]
        room.members = [
            replace(m, presenting=m.participant_id == participant_id) for m in room.members
        ]
        await self._layout(room)

    def members(self, meeting_id: str) -> list[Member]:
        room = self.rooms.get(meeting_id)
        return list(room.members) if room is not None else []

    def stats(self) -> MediaStats:
        return MediaStats()
