"""Packetize each encoded composite frame once per codec, for every receiver of that codec.

aiortc's stock ``RTCRtpSender`` calls ``encoder.pack()`` on every ``av.Packet`` it is handed,
so a room of N peers split the same H.264 bitstream into NAL units and FU-A/STAP-A payloads (or
wrote the same VP8 payload descriptors) N times per frame. :class:`Packetizer` does it once:
an :class:`EncodedFrame` holds the frame's RTP payloads in order, its RTP timestamp offset (90
kHz, before each peer's random origin) and whether it is a keyframe. The marker bit belongs on
the last payload. What differs per peer (sequence numbers, SSRC, timestamp origin, header
extensions, SRTP) is :class:`vidroom.media.rtp_sender.FanoutSender`'s job.

aiortc internals used: the packers ``aiortc.codecs.h264.H264Encoder.pack`` and
``aiortc.codecs.vpx.Vp8Encoder.pack`` (public methods of aiortc's ``Encoder`` API, called here
on an encoder object whose codec is never opened). VP8's picture id lives in that encoder
object, so it advances once per frame for every VP8 peer together; a receiver joining later
sees ids start anywhere, as with any stream. aiortc is pinned ``<1.17``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder


@dataclass(frozen=True)
class EncodedFrame:
    """One encoded frame of the composite as RTP payloads, shared by every peer of a codec."""

    codec: str
    timestamp: int  # 90 kHz, to be added to each peer's random timestamp origin
    payloads: tuple[bytes, ...]
    keyframe: bool

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.payloads)


class Packetizer:
    """Turns one codec's ``av.Packet`` objects into :class:`EncodedFrame` objects."""

    def __init__(self, codec: str) -> None:
        if codec == "H264":
            self._packer: H264Encoder | Vp8Encoder = H264Encoder()
        elif codec == "VP8":
            self._packer = Vp8Encoder()
        else:
            raise ValueError(f"unsupported video codec {codec!r}")
        self.codec = codec
        self.frames = 0

    def packetize(self, packet: av.Packet[Any]) -> EncodedFrame | None:
        """The frame's payloads (``packet`` carries pts and time_base); None if empty."""
        payloads, timestamp = self._packer.pack(packet)
        if not payloads:
            return None
        self.frames += 1
        return EncodedFrame(self.codec, timestamp, tuple(payloads), bool(packet.is_keyframe))
