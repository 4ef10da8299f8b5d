"""Test helpers (like aiortc's tests/utils): loopback ICE and synthetic media tracks.

Shipped in the package so that the signalling tests' Python client can reuse them.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aioice.ice
import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from vidroom.media.consent import guard_consent

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
guard_consent()


@contextmanager
def loopback_ice() -> Iterator[None]:
    """Make aioice gather only 127.0.0.1 (it skips loopback otherwise)."""
    module: Any = aioice.ice
    original = module.get_host_addresses
    module.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    try:
        yield
    finally:
        module.get_host_addresses = original


class ColorVideoTrack(MediaStreamTrack):
    """A solid-colour camera: ``rgb`` frames of ``size`` at ``fps``."""

    kind = "video"

    def __init__(
        self, rgb: tuple[int, int, int], size: tuple[int, int] = (640, 360), fps: int = 15
    ) -> None:
        super().__init__()
        self.fps = fps
        self.size = size
        self.set_color(rgb, size)
        self._start: float | None = None
        self._count = 0

    def set_color(self, rgb: tuple[int, int, int], size: tuple[int, int] | None = None) -> None:
        width, height = size or self.size
        self.size = (width, height)
        picture = np.empty((height, width, 3), np.uint8)
        picture[:] = rgb
        self._frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._count += 1
            await asyncio.sleep(max(0.0, self._start + self._count / self.fps - now))
        # a fresh frame object each time: the encoder stamps pts on it
        frame = av.VideoFrame.from_ndarray(self._frame.to_ndarray(), format="yuv420p")
        frame.pts = self._count * 90000 // self.fps
        frame.time_base = VIDEO_TIME_BASE
        return frame


class ToneAudioTrack(MediaStreamTrack):
    """A sine tone of ``hz`` as 20 ms, 48 kHz mono s16 frames, paced in real time."""

    kind = "audio"

    def __init__(self, hz: float, amplitude: float = 0.3, rate: int = 48000) -> None:
        super().__init__()
        self.hz = hz
        self.amplitude = amplitude
        self.rate = rate
        self._samples = rate // 50
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._count += 1
            await asyncio.sleep(max(0.0, self._start + self._count * 0.02 - now))
        first = self._count * self._samples
        t = (np.arange(first, first + self._samples) / self.rate) * (2 * math.pi * self.hz)
        samples = (np.sin(t) * self.amplitude * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.time_base = fractions.Fraction(1, self.rate)
        frame.pts = first
        return frame


def dominant_tones(
    samples: np.ndarray[Any, Any],
    rate: int,
    candidates: list[float],
    min_amplitude: float = 0.0,
) -> set[float]:
    """Which of ``candidates`` (Hz) stand out in ``samples`` (mono): a peak within ±8 Hz at
    least 10x the median of the spectrum and at least a tenth of the strongest candidate's
    (codec artefacts and intermodulation stay far below a real tone). With ``min_amplitude``
    (in the samples' unit) a tone must also be at least that loud: near digital silence the
    spectrum's median is ~0 and a decoder's concealment residue would otherwise "stand out"."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.shape[0])))
    freqs = np.fft.rfftfreq(samples.shape[0], 1 / rate)
    floor = float(np.median(spectrum[(freqs > 100) & (freqs < 4000)])) + 1e-9
    audible = min_amplitude * samples.shape[0] / 4  # a Hann-windowed sine's peak
    peaks = {}
    for hz in candidates:
        band = spectrum[(freqs > hz - 8) & (freqs < hz + 8)]
        peaks[hz] = float(band.max()) if band.size else 0.0
    strongest = max(peaks.values(), default=0.0)
    return {
        hz
        for hz, peak in peaks.items()
        if peak > 10 * floor and peak > strongest / 10 and peak >= audible
    }
