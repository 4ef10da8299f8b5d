"""The room's video encoder: H.264 (libx264 through PyAV), shared by every receiver; a VP8
rendition (libvpx) only while a peer that cannot take H.264 (Firefox without OpenH264) is in.

Why H.264 and not VP8: measured on the project machine (media-measured.md §2), libx264
``ultrafast`` encodes a 720p frame in 3.3 ms against 7.0 ms for libvpx with aiortc's realtime
settings, H.264 decodes 3x cheaper (clients and the server's own receivers), and the same
packets can later feed MP4/FLV recording and RTMP. The price: every peer must negotiate H.264
(``peer.py`` forces it with ``setCodecPreferences`` before ``setRemoteDescription``).

Settings: preset ``ultrafast``, tune ``zerolatency`` (no B-frames, no lookahead, no frame
delay), profile baseline (x264 signals constrained baseline), in-band SPS/PPS on every
keyframe (``repeat-headers=1``, no global header), forced keyframes are IDR, 1.5 Mbit/s with a
1.8 Mbit/s VBV cap, a periodic keyframe every 4 s, one encoder thread.

VP8 (only for peers that offer no H.264): libvpx with aiortc's realtime settings (deadline
realtime, cpu-used -6, no lag, CBR at the same bitrate), a keyframe every 4 s as well.

Keyframe requests (PLI/FIR from any receiver, a newcomer) are coalesced and rate-limited: at
most one forced keyframe per ``min_keyframe_interval``; a request inside that window is kept
and served when the window ends. ``request_keyframe`` is thread-safe; ``encode`` runs in the
room's worker thread.
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from typing import Any

import av
from av import VideoFrame
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType

VIDEO_TIME_BASE = Fraction(1, 90000)
BITRATE = 1_500_000
KEYFRAME_PERIOD_S = 4.0
MIN_KEYFRAME_INTERVAL_S = 0.5


CODECS = ("H264", "VP8")


class SharedEncoder:
    """Encodes composite frames once per codec; the packets go to every peer unchanged."""

    def __init__(
        self,
        size: tuple[int, int],
        fps: int,
        *,
        bitrate: int = BITRATE,
        min_keyframe_interval: float = MIN_KEYFRAME_INTERVAL_S,
        codec_name: str = "H264",
    ) -> None:
        if codec_name not in CODECS:
            raise ValueError(f"unsupported video codec {codec_name!r}")
        self.codec_name = codec_name
        self.size = size
        self.fps = fps
        self.min_keyframe_interval = min_keyframe_interval
        self._lock = threading.Lock()
        self._requested = True  # the first frame is a keyframe anyway
        self._last_forced = -1e9
        self.keyframes = 0  # keyframes produced, total
        self.forced = 0  # keyframes produced on request
        self.requests = 0  # keyframe requests received
        self.frames = 0
        opener = self._open if codec_name == "H264" else self._open_vp8
        self._codec = opener(size, fps, bitrate)
        self._closed = False

    @staticmethod
    def _context(
        name: str, size: tuple[int, int], fps: int, bitrate: int, options: dict[str, str]
    ) -> VideoCodecContext:
        codec = av.CodecContext.create(name, "w")
        assert isinstance(codec, VideoCodecContext)
        codec.width, codec.height = size
        codec.pix_fmt = "yuv420p"
        codec.framerate = Fraction(fps, 1)
        codec.time_base = VIDEO_TIME_BASE
        codec.bit_rate = bitrate
        codec.gop_size = max(1, round(fps * KEYFRAME_PERIOD_S))
        codec.thread_count = 1
        if name == "libvpx":
            codec.qmin, codec.qmax = 2, 56
        codec.options = options
        codec.open()
        return codec

    @classmethod
    def _open_vp8(cls, size: tuple[int, int], fps: int, bitrate: int) -> VideoCodecContext:
        return cls._context(
            "libvpx",
            size,
            fps,
            bitrate,
            {
                "deadline": "realtime",
                "cpu-used": "-6",
                "lag-in-frames": "0",
                "bufsize": str(bitrate),
                "minrate": str(bitrate),
                "maxrate": str(bitrate),
                "undershoot-pct": "100",
                "overshoot-pct": "15",
                "static-thresh": "1",
                "noise-sensitivity": "4",
                "partitions": "0",
            },
        )

    @classmethod
    def _open(cls, size: tuple[int, int], fps: int, bitrate: int) -> VideoCodecContext:
        return cls._context(
            "libx264",
            size,
            fps,
            bitrate,
            {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "profile": "baseline",
                "forced-idr": "1",
                "maxrate": str(bitrate * 6 // 5),
                "bufsize": str(bitrate // 2),
                "x264-params": "repeat-headers=1:annexb=1",
            },
        )

    def request_keyframe(self) -> None:
        """Ask for a keyframe soon (coalesced, rate-limited). Any thread."""
        with self._lock:
            self.requests += 1
            self._requested = True

    def _take_request(self) -> bool:
        with self._lock:
            if not self._requested:
                return False
            now = time.monotonic()
            if now - self._last_forced < self.min_keyframe_interval:
                return False  # kept pending until the window ends
            self._requested = False
            self._last_forced = now
            return True

    def encode(self, frame: VideoFrame, pts: int) -> list[av.Packet[Any]]:
        """Encode one frame (``pts`` in 1/90000 s); the packets carry pts and time_base."""
        if self._closed:
            return []
        force = self._take_request()
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        frame.pict_type = PictureType.I if force else PictureType.NONE
        packets = list(self._codec.encode(frame))
        self.frames += 1
        for packet in packets:
            packet.pts = pts
            packet.time_base = VIDEO_TIME_BASE
            if packet.is_keyframe:
                self.keyframes += 1
                if force:
                    self.forced += 1
        return packets

    def close(self) -> None:
        self._closed = True
