"""Record a room's composite into a fragmented MP4 file, without encoding anything again.

A :class:`Recorder` is a :class:`~vidroom.media.egress_types.Sink`: the room's render and audio
threads hand it the room's own H.264 and AAC packets; it queues them (bounded, never blocking)
and muxes them on a thread of its own with FFmpeg's ``mp4`` muxer (stream copy), movflags
``frag_keyframe+empty_moov+default_base_moof`` with ``frag_duration`` 1 s and
``flush_packets``: the moov box comes first and a fragment is written (and flushed to the file)
at every keyframe and at least every second, so a killed process leaves a file playable up to
its last fragment, about a second short at most (``finalize.py`` repairs the tail). A fragment
may then start on an inter frame; its references are in the fragment before it.

Video starts at a keyframe; the muxer builds its ``avcC`` from that keyframe's in-band SPS/PPS
(the encoder repeats them on every keyframe, Annex B). A resolution change (widescreen on/off)
starts the new encoder on a keyframe with its own SPS, in-band: decoders (FFmpeg, browsers)
re-initialise at the new size, so every frame after the change decodes at its new size.

Timestamps are rebased to the first keyframe. :meth:`pause` stops writing; :meth:`resume`
waits for the next keyframe and shifts everything after it back by the time spent paused, so
the file has neither a gap nor a frozen stretch. Audio follows the same shift; an audio packet
that would not come strictly after the last one written is dropped.

A queue overflow (a slow disk) drops video until the next keyframe, so the file never holds a
frame whose references are missing. A write error ends the recording: ``on_error`` is called
from the recorder's thread and the file keeps what was written.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av

from vidroom.media.contract import RecordingResult, RecordingTarget
from vidroom.media.egress_types import (
    AAC_FRAME,
    AUDIO_CHANNELS,
    AUDIO_SAMPLE_RATE,
    VIDEO_CLOCK,
    AudioPacket,
    VideoPacket,
)

log = logging.getLogger(__name__)

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
FRAGMENT_SECONDS = 1.0
MUX_OPTIONS = {
    "movflags": MOVFLAGS,
    # a fragment at every keyframe and at least every second, so a kill loses about a second
    "frag_duration": str(int(FRAGMENT_SECONDS * 1_000_000)),
    # each finished fragment goes to the file at once (not left in FFmpeg's 32 KB AVIO buffer)
    "flush_packets": "1",
}
QUEUE_SIZE = 600  # ~10 s of video and audio packets together
VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
DEFAULT_INTERVAL = VIDEO_CLOCK // 15
AAC_BITRATE = 96_000
_STOP = object()


def open_fragmented(path: str) -> Any:
    """An output container for fragmented MP4: moov first, a fragment per keyframe."""
    return av.open(path, "w", format="mp4", options=dict(MUX_OPTIONS))


class Recorder:
    def __init__(
        self, target: RecordingTarget, on_error: Callable[[Recorder], None] | None = None
    ) -> None:
        self.target = target
        self._on_error = on_error
        # SimpleQueue (C, no Condition to notify) bounded by hand: queue.Queue's put cost the
        # render and audio threads a measurable share of what recording costs (py-spy)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name=f"media-recorder-{target.recording_id}", daemon=True
        )
        self._lock = threading.Lock()
        self._paused = False
        self._waiting = True  # for a keyframe: at the start, on resume, after an overflow
        self._stopped = False
        self._resumed = False  # a pause ended: the next keyframe closes the gap
        self.failed: BaseException | None = None
        # the muxing thread's state
        self._container: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._origin: int | None = None  # room pts (90 kHz) of the first keyframe
        self._shift = 0  # 90 kHz taken out for paused time
        self._resume_gap = False  # the next keyframe closes a pause
        self._last_in = -1  # the room pts of the last video packet written
        self._last_out = -1  # its file pts
        self._interval = DEFAULT_INTERVAL
        self._last_audio = -1  # the file pts (48 kHz) of the last audio packet written
        self._end = 0  # the file's end so far, 90 kHz
        self.dropped = 0

    # -- the room's threads --------------------------------------------------------------

    @property
    def wants_keyframe(self) -> bool:
        return self._waiting and not self._paused and not self._stopped

    @property
    def paused(self) -> bool:
        return self._paused

    def video(self, packet: VideoPacket) -> None:
        with self._lock:
            if self._paused or self._stopped:
                return
            if self._waiting:
                if not packet.keyframe:
                    return
                if self._resumed:  # the file goes on right after its last frame
                    if not self._put(_RESUME):
                        return
                    self._resumed = False
                self._waiting = False
            if not self._put(packet):
                self._waiting = True  # no frame without its references

    def audio(self, packet: AudioPacket) -> None:
        with self._lock:
            if self._paused or self._stopped or self._waiting:
                return
            self._put(packet)

    def _put(self, item: object) -> bool:
        """Queue ``item`` for the writer thread unless the queue is full (counted)."""
        if self._queue.qsize() >= QUEUE_SIZE:
            self.dropped += 1
            return False
        self._queue.put(item)
        return True

    # -- control (any thread) ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            if self._paused:
                self._paused = False
                self._waiting = True
                self._resumed = True

    def stop(self) -> RecordingResult:
        """Finish the file (blocking: call it in an executor) and say what it holds."""
        with self._lock:
            self._stopped = True
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        try:
            size = os.path.getsize(self.target.path)
        except OSError:
            size = 0
        return RecordingResult(
            recording_id=self.target.recording_id,
            duration=round(self._end / VIDEO_CLOCK, 3),
            size=size,
            path=self.target.path,
        )

    # -- the recorder's thread -----------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                if self.failed is None:
                    self._write(item)
        except BaseException as exc:  # a write error: the recording is over
            self._fail(exc)
            while self._queue.get() is not _STOP:  # drain until stop() comes
                pass
        finally:
            self._close()

    def _fail(self, exc: BaseException) -> None:
        log.error("recording %s failed: %r", self.target.recording_id, exc)
        self.failed = exc
        with self._lock:
            self._stopped = True
        if self._on_error is not None:
            self._on_error(self)

    def _write(self, item: object) -> None:
        if item is _RESUME:
            self._resume_gap = True
        elif isinstance(item, VideoPacket):
            self._write_video(item)
        elif isinstance(item, AudioPacket):
            self._write_audio(item)

    def _open(self, first: VideoPacket) -> None:
        os.makedirs(os.path.dirname(self.target.path) or ".", exist_ok=True)
        container = open_fragmented(self.target.path)
        video = container.add_mux_stream("h264", width=first.width, height=first.height)
        video.time_base = VIDEO_TIME_BASE
        # The AudioSpecificConfig comes from an AAC encoder context set up exactly like the
        # room's (mono 48 kHz LC): it is opened once, never fed.
        audio = container.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="mono")
        audio.codec_context.bit_rate = AAC_BITRATE
        audio.time_base = AUDIO_TIME_BASE
        assert AUDIO_CHANNELS == 1
        self._container, self._video, self._audio = container, video, audio
        self._origin = first.pts

    def _write_video(self, packet: VideoPacket) -> None:
        if self._container is None:
            self._open(packet)
        assert self._origin is not None
        if self._resume_gap and packet.keyframe:
            # continue right after the last frame written, one frame interval later
            self._resume_gap = False
            pts = self._last_out + self._interval
            self._shift = packet.pts - self._origin - pts
        elif self._last_in >= 0:
            self._interval = max(1, min(packet.pts - self._last_in, VIDEO_CLOCK))
        pts = packet.pts - self._origin - self._shift
        if pts <= self._last_out:
            return
        out = av.Packet(packet.data)
        out.pts = out.dts = pts
        out.time_base = VIDEO_TIME_BASE
        out.is_keyframe = packet.keyframe
        out.stream = self._video
        self._container.mux(out)
        self._last_in, self._last_out = packet.pts, pts
        self._end = max(self._end, pts + self._interval)

    def _write_audio(self, packet: AudioPacket) -> None:
        if self._container is None or self._origin is None or self._resume_gap:
            return  # audio waits for the video it goes with
        origin = self._origin * AUDIO_SAMPLE_RATE // VIDEO_CLOCK
        shift = self._shift * AUDIO_SAMPLE_RATE // VIDEO_CLOCK
        pts = packet.pts - origin - shift
        if pts < 0 or (self._last_audio >= 0 and pts < self._last_audio + AAC_FRAME):
            return
        out = av.Packet(packet.data)
        out.pts = out.dts = pts
        out.time_base = AUDIO_TIME_BASE
        out.stream = self._audio
        self._container.mux(out)
        self._last_audio = pts

    def _close(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        try:
            container.close()
        except Exception as exc:
            if self.failed is None:
                self._fail(exc)


_RESUME = object()
