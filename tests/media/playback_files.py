"""Small media files made with PyAV for the playback tests and the benchmark."""

from __future__ import annotations

import fractions
import math
from pathlib import Path
from typing import cast

import av
import numpy as np

RATE = 48000


def _tone(hz: float, first: int, count: int, rate: int) -> np.ndarray:
    t = (np.arange(first, first + count) / rate) * (2 * math.pi * hz)
    return (np.sin(t) * 0.3 * 32767).astype(np.int16)


def make_video(
    path: Path,
    colors: list[tuple[int, int, int]],
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    codec: str = "libx264",
    tone: float | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """A video of solid colours, each shown for an equal share of ``seconds``; with ``tone``,
    also a sine of that many Hz (AAC in MP4, Opus in WebM)."""
    width, height = size
    webm = path.suffix == ".webm"
    with av.open(str(path), "w", options=options or {}) as container:
        video = cast(av.VideoStream, container.add_stream(codec, rate=fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if tone is not None:
            audio = container.add_stream("libopus" if webm else "aac", rate=RATE)
            audio.layout = "mono"
        frames = round(seconds * fps)
        picture = np.empty((height, width, 3), np.uint8)
        for i in range(frames):
            picture[:] = colors[min(len(colors) - 1, i * len(colors) // frames)]
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            frame.time_base = fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            _write_tone(container, audio, tone or 0.0, seconds)
    return path


def _write_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, hz: float, seconds: float
) -> None:
    chunk = 960
    for first in range(0, round(seconds * RATE), chunk):
        frame = av.AudioFrame.from_ndarray(
            _tone(hz, first, chunk, RATE).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = RATE, first
        frame.time_base = fractions.Fraction(1, RATE)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def make_mp3(path: Path, hz: float, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libmp3lame", rate=RATE)
        stream.layout = "mono"
        _write_tone(container, stream, hz, seconds)
    return path
