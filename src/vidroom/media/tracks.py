"""Outgoing tracks of already-encoded packets for aiortc's stock ``RTCRtpSender``: the peer's
own encoded audio mix, and ``PacketTrack`` for video.

The room's composite no longer goes through ``PacketTrack`` (it is packetized once per codec
and sent by :mod:`vidroom.media.rtp_sender`); ``PacketTrack`` remains the stock path that the
benchmarks' Python clients send with and that ``benchmarks/packet_path.py`` measures as the
baseline. ``PacketTrack.recv`` hands the sender encoded ``av.Packet`` objects unchanged
(aiortc then packetises them per sender). Its queue is small and bounded: when it is full the
track drops everything up to the next keyframe (and asks for one) instead of growing.

aiortc turns a PLI/FIR from the receiver into ``RTCRtpSender._send_keyframe()``, which on the
packet path does nothing; :func:`route_keyframe_requests` replaces it per sender with the
shared encoder's request. That is a private API: aiortc is pinned to ``<1.17`` and
``tests/media`` checks it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from vidroom.media.audio_encoder import AUDIO_RATE, AUDIO_SAMPLES, AUDIO_TIME_BASE

__all__ = ["AUDIO_RATE", "AUDIO_SAMPLES", "AUDIO_TIME_BASE", "MixTrack", "PacketTrack"]

VIDEO_QUEUE = 8
AUDIO_QUEUE = 6


class _QueueTrack(MediaStreamTrack):
    """Hands the sender already-encoded packets from a queue; ends when stopped."""

    def __init__(self, queue: deque[av.Packet[Any]]) -> None:
        super().__init__()
        self._queue = queue
        self._ready = asyncio.Event()
        self.sent = 0

    def _offer(self, packet: av.Packet[Any]) -> None:
        self._queue.append(packet)
        self._ready.set()

    async def _next(self) -> av.Packet[Any]:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        self.sent += 1
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()


class PacketTrack(_QueueTrack):
    """The composite for one peer: shared packets from a bounded queue."""

    kind = "video"

    def __init__(self, request_keyframe: Callable[[], None], maxsize: int = VIDEO_QUEUE) -> None:
        super().__init__(deque())
        self._request_keyframe = request_keyframe
        self._maxsize = maxsize
        self._waiting_keyframe = True  # a receiver can only start on a keyframe
        self._started = False
        self._overflowed = 0
        self.overflows = 0  # times the queue was full
        self.dropped = 0  # packets not delivered because of overflows

    def push(self, packet: av.Packet[Any]) -> None:
        """Offer a packet (event loop thread). Until the sender starts reading nothing is
        queued; then the track starts on a keyframe, and on overflow it drops to the next."""
        if not self._started or self.readyState != "live":
            return
        if self._waiting_keyframe:
            if not packet.is_keyframe:
                self.dropped += self._overflowed  # the first wait (a newcomer) is no loss
                return
            self._waiting_keyframe = False
        if len(self._queue) >= self._maxsize:
            self._overflowed = 1
            self.overflows += 1
            self.dropped += len(self._queue) + 1
            self._queue.clear()
            self._waiting_keyframe = not packet.is_keyframe
            self._request_keyframe()
            if self._waiting_keyframe:
                return
        self._offer(packet)

    async def recv(self) -> av.Packet[Any]:
        if not self._started:
            self._started = True
            self._request_keyframe()  # every newcomer gets a keyframe
        return await self._next()


class MixTrack(_QueueTrack):
    """The audio one peer hears (everyone but themselves): 20 ms Opus packets encoded by the
    room's :class:`~vidroom.media.audio_encoder.AudioEncoder`, so aiortc only packetises them.
    The queue is short; the oldest packets are dropped when the sender falls behind."""

    kind = "audio"

    def __init__(self, maxsize: int = AUDIO_QUEUE) -> None:
        super().__init__(deque(maxlen=maxsize))

    def push(self, packet: av.Packet[Any]) -> None:
        """Offer one encoded 20 ms packet (event loop thread)."""
        if self.readyState == "live":
            self._offer(packet)

    async def recv(self) -> av.Packet[Any]:
        return await self._next()


def route_keyframe_requests(sender: RTCRtpSender, request_keyframe: Callable[[], None]) -> None:
    """Make a PLI/FIR received by ``sender`` ask the shared encoder for a keyframe."""
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise RuntimeError("aiortc RTCRtpSender has no _send_keyframe: check the aiortc pin")
    setattr(sender, "_send_keyframe", request_keyframe)  # noqa: B010 - private aiortc hook
