"""What a room hands its egress sinks (the recorder, the broadcaster): encoded composite media.

The room encodes its composite once (H.264, ``encoder.py``) and its full audio mix once more
(AAC, for every sink together); each sink muxes those same packets into its own container
(fragmented MP4 on disk, FLV over RTMP) without encoding anything itself.

Threads: :meth:`Sink.video` is called from the room's render thread, :meth:`Sink.audio` from
its audio thread. Neither may block: a sink queues the packet (bounded) and muxes on a thread
of its own, so a slow disk or a stalled ingest never delays the composite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

VIDEO_CLOCK = 90000  # video pts unit: 1/90000 s
AUDIO_CODEC = "aac"
AUDIO_SAMPLE_RATE = 48000
AUDIO_CHANNELS = 1
AAC_FRAME = 1024  # samples per AAC frame


@dataclass(frozen=True)
class VideoPacket:
    """One encoded composite frame: H.264 Annex B (start codes), SPS/PPS in-band on every
    keyframe. ``pts`` in 1/90000 s on the room's clock (monotonic, never repeats)."""

    data: bytes
    pts: int
    keyframe: bool
    width: int
    height: int


@dataclass(frozen=True)
class AudioPacket:
    """One raw AAC-LC frame (no ADTS header) of the full mix, mono 48 kHz, 1024 samples.
    ``pts`` in samples (1/48000 s) on the room's audio clock; ``extradata`` is the
    AudioSpecificConfig (the same bytes for every packet of a room)."""

    data: bytes
    pts: int
    extradata: bytes


class Sink(Protocol):
    """An egress of the composite (recorder, broadcaster)."""

    def video(self, packet: VideoPacket) -> None:
        """Render thread; must not block."""

    def audio(self, packet: AudioPacket) -> None:
        """Audio thread; must not block."""

    @property
    def wants_keyframe(self) -> bool:
        """True while the sink waits for a keyframe to start (or resume) from: the room asks
        its H.264 encoder for one."""
        ...
