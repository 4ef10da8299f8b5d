"""Real aiortc peers against a real MediaSupervisor, over 127.0.0.1 only (iceServers=[])."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from vidroom.media.contract import Answer, Member, PeerSpec, RecordingResult, Tile
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack, loopback_ice

MEDIA_THREADS = ("media-", "video-decoder", "audio-decoder")


@dataclass
class Recorder:
    """A MediaEvents that remembers what it was told."""

    connected: list[tuple[str, str]] = field(default_factory=list)
    closed: list[tuple[str, str, str]] = field(default_factory=list)
    layouts: list[tuple[str, list[Member], list[Tile]]] = field(default_factory=list)
    voice: list[tuple[str, str, bool]] = field(default_factory=list)
    lost: list[tuple[str, list[str]]] = field(default_factory=list)
    recordings: list[tuple[str, RecordingResult, str]] = field(default_factory=list)
    broadcasts: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    playbacks: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def peer_connected(self, meeting_id: str, participant_id: str) -> None:
        self.connected.append((meeting_id, participant_id))

    async def peer_closed(self, meeting_id: str, participant_id: str, reason: str) -> None:
        self.closed.append((meeting_id, participant_id, reason))

    async def layout_changed(
        self, meeting_id: str, members: list[Member], tiles: list[Tile]
    ) -> None:
        self.layouts.append((meeting_id, members, tiles))

    async def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        self.voice.append((meeting_id, client_id, on))

    async def room_lost(self, meeting_id: str, participant_ids: list[str]) -> None:
        self.lost.append((meeting_id, participant_ids))

    async def recording_ended(self, meeting_id: str, result: RecordingResult, reason: str) -> None:
        self.recordings.append((meeting_id, result, reason))

    async def broadcast_state(
        self, meeting_id: str, broadcast_id: str, state: str, reason: str | None
    ) -> None:
        self.broadcasts.append((meeting_id, broadcast_id, state, reason))

    async def playback_ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        self.playbacks.append((meeting_id, play_id, error))


class Client:
    """A participant: sends a colour and a tone, decodes what the server sends back. With
    ``channel``, it also opens the negotiated data channel as the web client does, records
    what arrives on it (``channel_messages``) and answers pings while ``answer_pings``."""

    def __init__(
        self,
        name: str,
        rgb: tuple[int, int, int],
        hz: float,
        *,
        channel: bool = False,
        amplitude: float = 0.3,
    ) -> None:
        self.name = name
        self.rgb = rgb
        self.hz = hz
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = ColorVideoTrack(rgb, size=(320, 180), fps=15)
        self.audio = ToneAudioTrack(hz, amplitude=amplitude)
        self.pc.addTrack(self.audio)
        self.pc.addTrack(self.video)
        self.channel: RTCDataChannel | None = None
        self.channel_messages: list[str] = []
        self.answer_pings = True
        if channel:
            self.channel = self.pc.createDataChannel("data", negotiated=True, id=0)
            self.channel.on("message", self._on_channel)
        self.frames = 0
        self.latest: av.VideoFrame | None = None
        self.first_frame_at: float | None = None
        self.audio_chunks: deque[np.ndarray[Any, Any]] = deque(maxlen=75)
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    @property
    def spec(self) -> PeerSpec:
        return PeerSpec(
            participant_id=self.name, client_id=f"c-{self.name}", display_name=self.name
        )

    def _on_channel(self, message: object) -> None:
        assert isinstance(message, str)
        self.channel_messages.append(message)
        if message == '{"type":"ping"}' and self.answer_pings and self.channel is not None:
            self.channel.send('{"type":"pong"}')

    def voice(self) -> list[tuple[str, bool]]:
        """The voice_activity messages received on the data channel: (cid, on)."""
        found = []
        for text in self.channel_messages:
            message = json.loads(text)
            if message["type"] == "voice_activity":
                found.append((message["cid"], message["on"]))
        return found

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.VideoFrame):
                self.frames += 1
                self.latest = frame
                if self.first_frame_at is None:
                    self.first_frame_at = time.monotonic()
            elif isinstance(frame, av.AudioFrame):
                data = frame.to_ndarray().reshape(-1, len(frame.layout.channels)).mean(axis=1)
                self.audio_chunks.append(data)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def join(self, supervisor: MediaSupervisor, meeting_id: str) -> Answer:
        answer = await supervisor.join(meeting_id, self.spec, await self.offer())
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        return answer

    def color_at(self, x: int, y: int) -> tuple[int, int, int]:
        assert self.latest is not None
        rgb = self.latest.to_ndarray(format="rgb24")
        patch = rgb[y - 4 : y + 4, x - 4 : x + 4].reshape(-1, 3).mean(axis=0)
        return (int(patch[0]), int(patch[1]), int(patch[2]))

    def heard(self, seconds: float = 1.0) -> np.ndarray[Any, Any]:
        data = np.concatenate(list(self.audio_chunks))
        return data[-int(48000 * seconds) :]

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def close_to(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


async def until(predicate: Callable[[], bool], within: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


def media_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(MEDIA_THREADS)]


@pytest.fixture(autouse=True)
async def no_leaks() -> AsyncIterator[None]:
    """Set up first, torn down last: every media thread and task is gone after a test."""
    yield
    assert await until(lambda: media_threads() == [], 3), media_threads()

    def pending() -> list[asyncio.Task[object]]:
        me = asyncio.current_task()
        return [t for t in asyncio.all_tasks() if t is not me and not t.done()]

    assert await until(lambda: not pending(), 3), pending()


@pytest.fixture
def loopback() -> Iterator[None]:
    with loopback_ice():
        yield


@pytest.fixture
async def events() -> Recorder:
    return Recorder()


@pytest.fixture
async def supervisor(loopback: None, events: Recorder) -> AsyncIterator[MediaSupervisor]:
    sup = MediaSupervisor(events, ice_servers=[])
    yield sup
    await sup.close()


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(name: str, rgb: tuple[int, int, int], hz: float, **options: Any) -> Client:
        client = Client(name, rgb, hz, **options)
        made.append(client)
        return client

    yield make
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)
