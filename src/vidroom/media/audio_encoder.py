"""The room's Opus encoders: every peer's mix-minus, encoded in one call per 20 ms tick.

aiortc would encode each peer's audio itself: per peer and per 20 ms frame it upmixes the
mono mix to stereo, encodes stereo Opus and hops to a thread-pool thread and back (two
cross-thread wake-ups per frame and peer). Here the room hands every mix of a tick to one
worker thread at once and gets ``av.Packet`` objects back, which the peers' ``MixTrack``
queue and aiortc only packetises (``OpusEncoder.pack``). The stream is mono (Opus signals it
in every packet's TOC byte; ``opus/48000/2`` in the SDP is only the RTP clock and channel
capacity, and every Opus decoder plays mono packets).

Peers whose own input contributed nothing to the tick (no audio, or digital silence as from a
muted microphone) hear exactly the full mix, so one shared encoder serves all of them: a
meeting where two people talk and fourteen listen costs three Opus encodes per tick, not
sixteen. A peer that starts or stops talking moves between its own encoder and the shared
one; Opus decoders cope with that switch (a decoder sees a different encoder's packets as a
new segment, without a gap in timestamps), which is what mixing servers such as FreeSWITCH's
conference module do too.

``encode`` runs in the room's audio worker thread only; nothing else touches the encoders.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from av.audio.codeccontext import AudioCodecContext

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
AUDIO_TIME_BASE = Fraction(1, AUDIO_RATE)
OPUS_BITRATE = 32_000
SHARED = "\x00shared"  # the full mix's encoder (no participant id can be this)

I16 = npt.NDArray[np.int16]


def _open() -> AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, AudioCodecContext)
    codec.sample_rate = AUDIO_RATE
    codec.format = "s16"
    codec.layout = "mono"
    codec.bit_rate = OPUS_BITRATE
    codec.time_base = AUDIO_TIME_BASE
    codec.options = {"frame_duration": "20"}
    codec.open()
    return codec


class AudioEncoder:
    """Opus encoders of one room, keyed by participant, plus the shared full-mix encoder."""

    def __init__(self) -> None:
        self._codecs: dict[str, AudioCodecContext] = {}
        self._pts = 0
        self.encodes = 0  # Opus frames encoded, total
        self.shared = 0  # peer-frames served by the shared encoder, total

    def encode(
        self, own: dict[str, I16], listeners: list[str], full: I16 | None
    ) -> dict[str, av.Packet[Any]]:
        """Encode one tick: ``own`` maps talking peers to their own mix-minus; every peer in
        ``listeners`` gets the packet of ``full`` (the whole mix). Encoders of peers that are
        in neither are released."""
        pts = self._pts
        self._pts += AUDIO_SAMPLES
        packets: dict[str, av.Packet[Any]] = {}
        for key, samples in own.items():
            packet = self._encode(key, samples, pts)
            if packet is not None:
                packets[key] = packet
        if listeners and full is not None:
            packet = self._encode(SHARED, full, pts)
            if packet is not None:
                self.shared += len(listeners)
                for key in listeners:
                    packets[key] = packet
        keep = own.keys() | {SHARED}
        for key in [k for k in self._codecs if k not in keep]:
            del self._codecs[key]
        return packets

    def _encode(self, key: str, samples: I16, pts: int) -> av.Packet[Any] | None:
        codec = self._codecs.get(key)
        if codec is None:
            codec = self._codecs[key] = _open()
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.time_base = AUDIO_TIME_BASE
        frame.pts = pts
        out = codec.encode(frame)
        self.encodes += 1
        if not out:
            return None
        packet = out[-1]
        # The RTP timestamp comes from pts; a shared packet must carry the tick's time
        # whichever encoder made it (Opus's own pts start at -pre-skip).
        packet.pts = pts
        packet.time_base = AUDIO_TIME_BASE
        return packet
