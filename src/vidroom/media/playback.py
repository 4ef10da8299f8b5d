"""One media file played at real time: decoded with PyAV in a thread of its own.

:func:`open_media` checks a file (an MP4/MOV, a WebM/Matroska or an MP3 with a video and/or an
audio stream PyAV can decode) and raises :class:`MediaError` 400 with the reason otherwise. A
:class:`Playback` then demuxes and decodes it in its thread (``media-playback-…``), paced by the
wall clock against the frames' timestamps: the latest video frame is what :meth:`picture`
returns (the compositor takes it like a peer's camera frame), and with ``audio`` every decoded
audio frame is resampled to 48 kHz mono s16 in 20 ms frames (``av.AudioResampler``) and handed
to ``on_audio`` a little ahead of its time (``AUDIO_LEAD_S``: the mixer's input buffers it).
Only the streams in use are demuxed and decoded (no audio decoding when ``audio`` is false).

The file plays ``loop_count`` + 1 times (-1: forever), each pass reopening it. The end, or an
error while decoding (also a file that ends well before the duration its header announces:
truncated), calls ``on_end`` once from the thread with None or the reason. :meth:`stop` ends
the thread promptly (the pacing waits on an event) and reports nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import av
import av.error
from av.audio.resampler import AudioResampler

from vidroom.media.audio_encoder import AUDIO_RATE, AUDIO_SAMPLES
from vidroom.media.contract import MediaError, PlaybackSpec

log = logging.getLogger(__name__)

AUDIO_LEAD_S = 0.06  # audio goes to the mixer this much early (its input buffers 40 ms+)
FORMATS = {"mov", "mp4", "m4a", "matroska", "webm", "mp3"}  # demuxer names accepted
SHORT_TOLERANCE_S = 0.5  # a pass this much shorter than the announced duration: truncated
STOP_SECONDS = 5.0


class PlaybackError(Exception):
    """The file could not be decoded to its end."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError):
        return str(exc.strerror or exc)
    return str(exc) or type(exc).__name__


def open_media(path: str, audio: bool) -> Any:
    """The file's container, opened (raises MediaError 400 when it cannot be played)."""
    try:
        container = av.open(path, "r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(400, f"the file is not a playable media file ({_reason(exc)})") from exc
    try:
        names = set(str(container.format.name).split(","))
        if not names & FORMATS:
            raise MediaError(400, "the file is not an MP4, WebM or MP3 file")
        video = container.streams.video[0] if container.streams.video else None
        sound = container.streams.audio[0] if container.streams.audio else None
        if video is None and sound is None:
            raise MediaError(400, "the file has no audio or video stream")
        if video is None and not audio:
            raise MediaError(400, "the file has no video, and its audio is not played (audio)")
        if video is not None and not (video.codec_context.width and video.codec_context.height):
            raise MediaError(400, "the file's video stream has no picture size")
    except BaseException:
        container.close()
        raise
    return container


class Playback:
    """One playing file; :meth:`start` after construction, :meth:`stop` to end it early."""

    def __init__(
        self,
        spec: PlaybackSpec,
        container: Any,
        *,
        on_audio: Callable[[av.AudioFrame], None] | None,
        on_end: Callable[[str | None], None],
    ) -> None:
        self.spec = spec
        self.has_video = bool(container.streams.video)
        self.plays_audio = spec.audio and bool(container.streams.audio) and on_audio is not None
        self._container: Any = container
        self._on_audio = on_audio
        self._on_end = on_end
        self._picture: av.VideoFrame | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"media-playback-{spec.play_id[:20]}", daemon=True
        )
        self.passes = 0  # passes played to their end

    @property
    def play_id(self) -> str:
        return self.spec.play_id

    @property
    def name(self) -> str:
        return self.spec.name or ""

    def picture(self) -> av.VideoFrame | None:
        """The frame shown now (None before the first one is due)."""
        return self._picture

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the thread (blocking until it has, within ``STOP_SECONDS``)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_SECONDS)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        error: str | None = None
        container = self._container
        try:
            base = time.monotonic()
            while True:
                played = self._play(container, base)
                if played is None:
                    return  # stopped
                self.passes += 1
                if 0 <= self.spec.loop_count < self.passes:
                    break
                base += played
                container.close()
                container = self._container = open_media(self.spec.path, self.spec.audio)
        except MediaError as exc:
            error = exc.reason
        except (PlaybackError, av.error.FFmpegError, OSError, ValueError) as exc:
            error = f"the file could not be decoded ({_reason(exc)})"
        except Exception as exc:  # a bug: still reported, the room goes on
            log.exception("playback %s failed", self.spec.play_id)
            error = f"the playback failed ({type(exc).__name__})"
        finally:
            container.close()
        if not self._stop.is_set():
            self._on_end(error)

    def _play(self, container: Any, base: float) -> float | None:
        """One pass from ``base`` (monotonic); the seconds it lasted, None when stopped."""
        streams = list(container.streams.video[:1])
        if self.plays_audio:
            streams += container.streams.audio[:1]
        resampler = AudioResampler(
            format="s16", layout="mono", rate=AUDIO_RATE, frame_size=AUDIO_SAMPLES
        )
        first: float | None = None
        end = 0.0
        for packet in container.demux(*streams):
            for frame in packet.decode():
                at = frame.time
                if at is None:
                    continue
                if first is None:
                    first = at
                offset = at - first
                video = isinstance(frame, av.VideoFrame)
                lead = 0.0 if video else AUDIO_LEAD_S
                wait = base + offset - lead - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return None
                if self._stop.is_set():
                    return None
                if isinstance(frame, av.VideoFrame):
                    self._picture = frame
                    rate = packet.stream.average_rate or packet.stream.guessed_rate or 25
                    end = max(end, offset + 1 / float(rate))
                elif isinstance(frame, av.AudioFrame) and self._on_audio is not None:
                    for out in resampler.resample(frame):
                        self._on_audio(out)
                    end = max(end, offset + frame.samples / (frame.sample_rate or AUDIO_RATE))
        if first is None:
            raise PlaybackError("no frame could be decoded")
        expected = container.duration / av.time_base if container.duration else None
        if expected is not None and end < expected - SHORT_TOLERANCE_S:
            raise PlaybackError(f"it ends after {end:.1f} s of {expected:.1f} s: truncated")
        # the last frame stays up for its duration before the next pass or the end
        wait = base + end - time.monotonic()
        if wait > 0 and self._stop.wait(wait):
            return None
        return end
