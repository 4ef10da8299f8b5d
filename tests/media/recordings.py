"""Probing recorded files with PyAV (shared by the recording tests)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np

from vidroom.media.contract import Tile


@dataclass
class Probe:
    """What a file holds: every video frame's time and size, sampled pictures, the audio."""

    video_times: list[float] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    pictures: list[tuple[float, np.ndarray[Any, Any]]] = field(default_factory=list)
    audio: np.ndarray[Any, Any] = field(default_factory=lambda: np.zeros(0))
    audio_rate: int = 48000
    duration: float = 0.0  # the container's own idea
    errors: int = 0

    @property
    def video_span(self) -> float:
        if len(self.video_times) < 2:
            return 0.0
        step = self.video_times[1] - self.video_times[0]
        return self.video_times[-1] - self.video_times[0] + step

    def max_step(self) -> float:
        times = self.video_times
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def probe(path: str, *, every: int = 5) -> Probe:
    """Decode the whole file (a decode error is counted, not raised)."""
    found = Probe()
    with av.open(path) as container:
        found.duration = (container.duration or 0) / 1_000_000
        chunks: list[np.ndarray[Any, Any]] = []
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        for packet in container.demux(*streams):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                found.errors += 1
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    t = float(frame.time)
                    found.video_times.append(t)
                    found.sizes.append((frame.width, frame.height))
                    if len(found.video_times) % every == 1:
                        found.pictures.append((t, frame.to_ndarray(format="rgb24")))
                elif isinstance(frame, av.AudioFrame):
                    found.audio_rate = frame.sample_rate
                    chunks.append(frame.to_ndarray().reshape(-1))
        if chunks:
            found.audio = np.concatenate(chunks)
    return found


def colour_at(picture: np.ndarray[Any, Any], tile: Tile) -> tuple[int, int, int]:
    x, y = tile.x + tile.width // 2, tile.y + tile.height // 2
    patch = picture[y - 4 : y + 4, x - 4 : x + 4].reshape(-1, 3).mean(axis=0)
    return (int(patch[0]), int(patch[1]), int(patch[2]))
