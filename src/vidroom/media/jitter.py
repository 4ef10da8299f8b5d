"""A video jitter buffer that emits a frame as soon as it is complete.

aiortc's ``JitterBuffer`` (1.16) only emits a video frame when the first packet of the *next*
frame arrives, so every aiortc receive hop holds each frame one frame interval too long
(+67 ms at 15 fps; media-measured.md §5). A frame is complete when the packets from the
buffer's origin run contiguously, all with the same timestamp, up to one with the RTP marker
bit (the sender sets it on a frame's last packet). :func:`install` swaps this subclass in for
the receivers aiortc creates (``aiortc.rtcrtpreceiver.JitterBuffer``) — video only; audio
buffers keep aiortc's prefetch behaviour. aiortc is pinned ``<1.17``; ``tests/media`` checks it.
"""

from __future__ import annotations

from typing import Any

import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame


class MarkerJitterBuffer(JitterBuffer):
    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if self._is_video and self._origin is not None:
            packets = []
            timestamp = None
            for count in range(self.capacity):
                packet = self._packets[(self._origin + count) % self.capacity]
                if packet is None:
                    break
                if timestamp is None:
                    timestamp = packet.timestamp
                elif packet.timestamp != timestamp:
                    break  # an earlier frame ended without a marker: aiortc's rule applies
                packets.append(packet)
                if packet.marker:
                    self.remove(count + 1)
                    data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
                    return JitterFrame(data=data, timestamp=timestamp)
        return super()._remove_frame(sequence_number)


_installed = False


def install() -> None:
    """Use :class:`MarkerJitterBuffer` for every aiortc receiver created from now on."""
    global _installed
    if _installed:
        return
    if getattr(aiortc.rtcrtpreceiver, "JitterBuffer", None) is not JitterBuffer:
        raise RuntimeError("aiortc.rtcrtpreceiver.JitterBuffer changed: check the aiortc pin")
    module: Any = aiortc.rtcrtpreceiver
    module.JitterBuffer = MarkerJitterBuffer
    _installed = True
