"""The composite's encoders: one per video codec the room's peers receive.

Every peer that offers H.264 receives H.264 (``encoder.py`` says why), so a room normally runs
exactly one encoder. A peer that offers no H.264 (Firefox without Mozilla's OpenH264 plugin,
which Debian does not package) receives VP8; the room then encodes each composite frame once
more, in VP8, for all such peers together — encode once *per codec*, never per peer. An encoder
starts with a keyframe and is released when the last peer of its codec leaves.

Threads: :meth:`encode` runs in the room's worker thread and is the only code that creates or
drops encoders; :meth:`request_keyframe` may be called from any thread (the encoders' own
request flags are thread-safe); :meth:`resize` runs on the event loop between two frames.

Each codec's packets are also packetized here, once per frame in the worker thread
(:class:`~vidroom.media.packetizer.Packetizer`): :meth:`encode` hands the room
:class:`~vidroom.media.packetizer.EncodedFrame` objects (RTP payloads) that every peer's
:class:`~vidroom.media.rtp_sender.FanoutSender` only stamps, protects and sends.
"""

from __future__ import annotations

from typing import Any

import av

from vidroom.media.encoder import CODECS, SharedEncoder
from vidroom.media.packetizer import EncodedFrame, Packetizer


class Renditions:
    def __init__(self, size: tuple[int, int], fps: int) -> None:
        self.size = size
        self.fps = fps
        self._encoders: dict[str, SharedEncoder] = {}
        self._packetizers: dict[str, Packetizer] = {}
        self._old_keyframes = 0
        self._old_requests = 0

    def request_keyframe(self, codec: str) -> None:
        """A receiver of ``codec`` needs a keyframe (PLI/FIR, a newcomer). Any thread."""
        encoder = self._encoders.get(codec)
        if encoder is not None:  # none yet: a new encoder starts on a keyframe anyway
            encoder.request_keyframe()

    def resize(self, size: tuple[int, int], fps: int) -> None:
        """A new canvas size or rate: each encoder starts over at its next frame."""
        self.size, self.fps = size, fps

    def encode(
        self,
        frame: av.VideoFrame,
        pts: int,
        codecs: set[str],
        h264: list[av.Packet[Any]] | None = None,
    ) -> dict[str, list[EncodedFrame]]:
        """Worker thread: the frame in each of ``codecs``, packetized for RTP. ``h264``, when
        given, receives the H.264 ``av.Packet`` objects themselves (for the room's egress)."""
        stale = [
            codec
            for codec, encoder in self._encoders.items()
            if codec not in codecs or (encoder.size, encoder.fps) != (self.size, self.fps)
        ]
        for codec in stale:
            self._drop(codec)
        out: dict[str, list[EncodedFrame]] = {}
        for codec in sorted(codecs):
            if codec not in CODECS:
                continue
            encoder = self._encoders.get(codec)
            if encoder is None:
                encoder = SharedEncoder(self.size, self.fps, codec_name=codec)
                self._encoders[codec] = encoder
            packetizer = self._packetizers.get(codec)
            if packetizer is None:
                packetizer = self._packetizers[codec] = Packetizer(codec)
            packets = encoder.encode(frame, pts)
            if codec == "H264" and h264 is not None:
                h264.extend(packets)
            frames = (packetizer.packetize(p) for p in packets)
            out[codec] = [f for f in frames if f is not None]
        return out

    def _drop(self, codec: str) -> None:
        encoder = self._encoders.pop(codec, None)
        if encoder is not None:
            encoder.close()
            self._old_keyframes += encoder.keyframes
            self._old_requests += encoder.requests

    def close(self) -> None:
        for codec in list(self._encoders):
            self._drop(codec)

    def encoder(self, codec: str = "H264") -> SharedEncoder | None:
        """The current encoder of ``codec`` (tests, stats)."""
        return self._encoders.get(codec)

    @property
    def codecs(self) -> list[str]:
        return sorted(self._encoders)

    @property
    def keyframes(self) -> int:
        return self._old_keyframes + sum(e.keyframes for e in list(self._encoders.values()))

    @property
    def requests(self) -> int:
        return self._old_requests + sum(e.requests for e in list(self._encoders.values()))
