"""A room's egress: its recorders and broadcaster, fed with the room's own encoded media.

:class:`RoomEgress` belongs to one :class:`~vidroom.media.room.RoomMedia` and holds its sinks
(:class:`~vidroom.media.egress_types.Sink`) keyed by recording / broadcast id.

Video: the render thread hands over every composite frame's H.264 ``av.Packet`` objects (the
very packets the peers receive, from ``Renditions.encode``); each becomes one
:class:`VideoPacket` for every sink. While any sink exists the room encodes H.264 even when
every peer receives VP8, and a sink that ``wants_keyframe`` makes the room ask its H.264
encoder for one. The render thread also leaves its last composed frame here (a frame of its
own: ``Canvas.frame`` copies), which :meth:`RoomEgress.snapshot` PNG-encodes.

Audio: one AAC-LC encode (FFmpeg's ``aac``, mono 48 kHz, 96 kbit/s) of the room's **full** mix
(everyone, not a mix-minus), re-chunked from 960-sample ticks to 1024-sample AAC frames with an
``av.AudioFifo``. It runs on the room's audio thread, in the same executor call as the tick's
Opus encodes, only while a sink exists. Its pts are samples since the room's start (the video
clock's origin too, so a sink keeps both in sync); a tick the audio loop skipped (it fell
behind) is filled with silence so audio never drifts behind the picture.

Sinks never block these threads: each queues (bounded) and muxes on a thread of its own.
Everything else here runs on the event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.audio.codeccontext import AudioCodecContext
from PIL import Image

from vidroom.media.contract import (
    BroadcastTarget,
    EgressStats,
    MediaError,
    MediaEvents,
    RecordingResult,
    RecordingTarget,
    SnapshotImage,
)
from vidroom.media.egress_types import (
    AAC_FRAME,
    AUDIO_SAMPLE_RATE,
    AudioPacket,
    Sink,
    VideoPacket,
)
from vidroom.media.recorder import Recorder

log = logging.getLogger(__name__)

AAC_BITRATE = 96_000
AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
SKIPPED_TICK = 2 * 960  # the audio clock is this far behind the wall clock: fill with silence

I16 = npt.NDArray[np.int16]
Report = Callable[[Awaitable[None]], None]


class AacEncoder:
    """The full mix as AAC-LC frames (audio thread only)."""

    def __init__(self, first_pts: int) -> None:
        codec = av.CodecContext.create("aac", "w")
        assert isinstance(codec, AudioCodecContext)
        codec.sample_rate = AUDIO_SAMPLE_RATE
        codec.format = "fltp"
        codec.layout = "mono"
        codec.bit_rate = AAC_BITRATE
        codec.time_base = AUDIO_TIME_BASE
        codec.open()
        self._codec = codec
        self.extradata = bytes(codec.extradata or b"")
        self._fifo = av.AudioFifo()
        self.pts = first_pts  # the next input sample's pts
        self._frame_pts = first_pts  # the next AAC frame's pts
        self.padded = 0  # samples of silence filled in for skipped ticks

    def encode(self, samples: I16, clock_pts: int) -> list[AudioPacket]:
        """One tick of samples, which ought to start at ``clock_pts`` (wall clock)."""
        behind = clock_pts - self.pts
        if behind >= SKIPPED_TICK:
            self._write(np.zeros(behind, np.float32))
            self.padded += behind
        self._write(samples.astype(np.float32) / 32768.0)
        packets: list[AudioPacket] = []
        while self._fifo.samples >= AAC_FRAME:
            frame = self._fifo.read(AAC_FRAME)
            assert frame is not None
            frame.pts = self._frame_pts
            frame.time_base = AUDIO_TIME_BASE
            self._frame_pts += AAC_FRAME
            for packet in self._codec.encode(frame):
                if packet.pts is None:
                    continue
                packets.append(AudioPacket(bytes(packet), int(packet.pts), self.extradata))
        return packets

    def _write(self, samples: npt.NDArray[np.float32]) -> None:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = None
        self._fifo.write(frame)
        self.pts += samples.shape[0]


class RoomEgress:
    def __init__(
        self,
        meeting_id: str,
        events: MediaEvents,
        *,
        t0: float,
        request_keyframe: Callable[[], None],
        report: Report,
    ) -> None:
        self.meeting_id = meeting_id
        self.events = events
        self.t0 = t0  # the room's clock origin (time.monotonic)
        self._request_keyframe = request_keyframe
        self._report = report
        self.recorders: dict[str, Recorder] = {}
        self.broadcasts: dict[str, Any] = {}  # id → vidroom.media.broadcaster.Broadcaster
        self._sinks: tuple[Sink, ...] = ()  # what the render and audio threads see
        self._aac: AacEncoder | None = None
        self._reconnects_gone = 0
        self.last_frame: av.VideoFrame | None = None  # render thread writes, loop reads

    # -- the room's threads --------------------------------------------------------------

    @property
    def active(self) -> bool:
        return bool(self._sinks)

    def video(self, frame: av.VideoFrame, packets: list[av.Packet[Any]]) -> None:
        """Render thread: a composed frame and its H.264 packets (none while nobody needs
        them)."""
        self.last_frame = frame
        sinks = self._sinks
        if not sinks:
            return
        for packet in packets:
            if packet.pts is None:
                continue
            item = VideoPacket(
                bytes(packet), int(packet.pts), bool(packet.is_keyframe), frame.width, frame.height
            )
            for sink in sinks:
                sink.video(item)
        if any(sink.wants_keyframe for sink in sinks):
            self._request_keyframe()

    def audio(self, full: I16) -> None:
        """Audio thread: one tick of the full mix."""
        sinks = self._sinks
        if not sinks:
            self._aac = None
            return
        clock = round((time.monotonic() - self.t0) * AUDIO_SAMPLE_RATE)
        if self._aac is None:
            self._aac = AacEncoder(clock)
        for packet in self._aac.encode(full, clock):
            for sink in sinks:
                sink.audio(packet)

    # -- the event loop ------------------------------------------------------------------

    def _update(self) -> None:
        self._sinks = (*self.recorders.values(), *self.broadcasts.values())

    def start_recording(self, target: RecordingTarget) -> None:
        if self.recorders:
            raise MediaError(409, "the room is recording already")
        loop = asyncio.get_running_loop()

        def failed(recorder: Recorder) -> None:  # the recorder's thread
            loop.call_soon_threadsafe(self._recording_failed, recorder)

        recorder = Recorder(target, on_error=failed)
        recorder.start()
        self.recorders[target.recording_id] = recorder
        self._update()
        self._request_keyframe()

    def pause_recording(self, recording_id: str, paused: bool) -> None:
        recorder = self.recorders.get(recording_id)
        if recorder is None:
            raise MediaError(404, "that recording is not running in this room")
        if paused:
            recorder.pause()
        else:
            recorder.resume()
            self._request_keyframe()

    async def stop_recording(self, recording_id: str) -> RecordingResult:
        recorder = self.recorders.pop(recording_id, None)
        if recorder is None:
            raise MediaError(404, "that recording is not running in this room")
        self._update()
        return await asyncio.get_running_loop().run_in_executor(None, recorder.stop)

    def _recording_failed(self, recorder: Recorder) -> None:
        key = recorder.target.recording_id
        if self.recorders.get(key) is not recorder:
            return  # stopped meanwhile
        del self.recorders[key]
        self._update()
        self._report(self._ended(recorder, "error"))

    async def _ended(self, recorder: Recorder, reason: str) -> None:
        result = await asyncio.get_running_loop().run_in_executor(None, recorder.stop)
        await self.events.recording_ended(self.meeting_id, result, reason)

    def start_broadcast(self, target: BroadcastTarget) -> None:
        if self.broadcasts:
            raise MediaError(409, "the room broadcasts already")
        from vidroom.media.broadcaster import (  # type: ignore[import-not-found,unused-ignore]
            Broadcaster,
        )

        loop = asyncio.get_running_loop()
        key = target.broadcast_id
        holder: list[Any] = []

        def on_state(state: str, reason: str | None) -> None:  # the broadcaster's thread
            loop.call_soon_threadsafe(self._broadcast_state, holder[0], key, state, reason)

        broadcaster = Broadcaster(target, on_state)
        holder.append(broadcaster)
        self.broadcasts[key] = broadcaster
        self._update()
        broadcaster.start()
        self._request_keyframe()

    def _broadcast_state(self, broadcaster: Any, key: str, state: str, reason: str | None) -> None:
        if key not in self.broadcasts or self.broadcasts[key] is not broadcaster:
            return  # stopped: no more reports
        if state == "failed":
            del self.broadcasts[key]
            self._update()
            self._reconnects_gone += int(broadcaster.reconnects)
            self._report(self._stop_in_thread(broadcaster))
        self._report(self.events.broadcast_state(self.meeting_id, key, state, reason))

    async def stop_broadcast(self, broadcast_id: str) -> None:
        broadcaster = self.broadcasts.pop(broadcast_id, None)
        if broadcaster is not None:
            self._update()
            self._reconnects_gone += int(broadcaster.reconnects)
            await self._stop_in_thread(broadcaster)

    @staticmethod
    async def _stop_in_thread(broadcaster: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, broadcaster.stop)

    async def end(self, reason: str) -> None:
        """Stop every recording and broadcast and report them ended (``reason`` "empty" or
        "closed"); the reports are awaited."""
        recorders, self.recorders = list(self.recorders.values()), {}
        broadcasts, self.broadcasts = dict(self.broadcasts), {}
        self._update()
        calls: list[Awaitable[None]] = [self._ended(r, reason) for r in recorders]
        for key, broadcaster in broadcasts.items():
            self._reconnects_gone += int(broadcaster.reconnects)
            calls.append(self._stop_in_thread(broadcaster))
            calls.append(self.events.broadcast_state(self.meeting_id, key, "ended", reason))
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.error("media room %s: ending egress: %r", self.meeting_id, outcome)

    async def snapshot(self, executor: Executor) -> SnapshotImage:
        frame = self.last_frame
        if frame is None:
            raise MediaError(409, "nothing has been composed yet: nobody has joined")
        return await asyncio.get_running_loop().run_in_executor(executor, png, frame)

    def stats(self) -> EgressStats:
        live = sum(int(b.reconnects) for b in self.broadcasts.values())
        return EgressStats(
            recordings=len(self.recorders),
            broadcasts=len(self.broadcasts),
            reconnects=self._reconnects_gone + live,
        )


def png(frame: av.VideoFrame) -> SnapshotImage:
    """A frame as PNG bytes at its full size."""
    out = io.BytesIO()
    Image.fromarray(frame.to_ndarray(format="rgb24")).save(out, format="PNG", compress_level=1)
    return SnapshotImage(png=out.getvalue(), width=frame.width, height=frame.height)
