"""The broadcast half of :class:`vidroom.media.contract.MediaControl` for control-plane tests:
it holds the rooms' members as a test sets them, keeps every target it was asked to push to,
and refuses like the real media server (404 no room, 409 one runs). It pushes nothing: the
end-to-end tests with real media and nginx-rtmp do that."""

from __future__ import annotations

from dataclasses import dataclass, field

from vidroom.media.contract import BroadcastTarget, MediaError, MediaStats, Member


@dataclass
class ContractMedia:
    rooms: dict[str, list[Member]] = field(default_factory=dict)
    started: list[tuple[str, BroadcastTarget]] = field(default_factory=list)
    stopped: list[tuple[str, str]] = field(default_factory=list)
    running: dict[str, str] = field(default_factory=dict)  # meeting id -> broadcast id
    refuse_next: MediaError | None = None

    def add_member(self, meeting_id: str, name: str = "someone") -> None:
        self.rooms.setdefault(meeting_id, []).append(Member(name, name, name))

    def members(self, meeting_id: str) -> list[Member]:
        return list(self.rooms.get(meeting_id, []))

    def stats(self) -> MediaStats:
        return MediaStats()

    async def start_broadcast(self, meeting_id: str, target: BroadcastTarget) -> None:
        if self.refuse_next is not None:
            error, self.refuse_next = self.refuse_next, None
            raise error
        if meeting_id not in self.rooms:
            raise MediaError(404, "no such room")
        if meeting_id in self.running:
            raise MediaError(409, "a broadcast runs already")
        self.started.append((meeting_id, target))
        self.running[meeting_id] = target.broadcast_id

    async def stop_broadcast(self, meeting_id: str, broadcast_id: str) -> None:
        self.stopped.append((meeting_id, broadcast_id))
        if self.running.get(meeting_id) == broadcast_id:
            del self.running[meeting_id]

    async def leave(self, meeting_id: str, participant_id: str) -> None:
        pass

    async def close_room(self, meeting_id: str) -> None:
        self.rooms.pop(meeting_id, None)
        self.running.pop(meeting_id, None)
